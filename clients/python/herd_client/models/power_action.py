from enum import StrEnum

class PowerAction(StrEnum):
    FORCE_OFF = "force_off"
    RESTART = "restart"
    START = "start"
    STOP = "stop"

    def __str__(self) -> str:
        return str(self.value)
