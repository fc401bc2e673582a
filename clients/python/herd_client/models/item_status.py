from enum import StrEnum

class ItemStatus(StrEnum):
    ASSIGNED = "assigned"
    CANCELLED = "cancelled"
    CLONED = "cloned"
    FAILED = "failed"
    PENDING = "pending"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return str(self.value)
