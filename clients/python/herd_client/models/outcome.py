from enum import StrEnum

class Outcome(StrEnum):
    FAILURE = "failure"
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"

    def __str__(self) -> str:
        return str(self.value)
