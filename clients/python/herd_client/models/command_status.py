from enum import StrEnum

class CommandStatus(StrEnum):
    DISPATCHED = "dispatched"
    FAILED = "failed"
    QUEUED = "queued"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
