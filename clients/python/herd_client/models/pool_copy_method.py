from enum import StrEnum

class PoolCopyMethod(StrEnum):
    DDR = "ddr"
    FLASHCOPY = "flashcopy"

    def __str__(self) -> str:
        return str(self.value)
