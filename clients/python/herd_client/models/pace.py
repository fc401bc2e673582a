from enum import StrEnum

class Pace(StrEnum):
    ADAPTIVE = "adaptive"
    FIXED = "fixed"

    def __str__(self) -> str:
        return str(self.value)
