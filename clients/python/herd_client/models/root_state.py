from enum import StrEnum

class RootState(StrEnum):
    PUBLISHED = "published"
    RETIRED = "retired"

    def __str__(self) -> str:
        return str(self.value)
