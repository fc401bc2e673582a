from enum import StrEnum

class GuestState(StrEnum):
    DECOMMISSIONED = "decommissioned"
    DECOMMISSIONING = "decommissioning"
    FAILED = "failed"
    POOLED = "pooled"
    PROVISIONING = "provisioning"
    RUNNING = "running"
    STARTING = "starting"
    STOPPED = "stopped"
    STOPPING = "stopping"
    UNRESPONSIVE = "unresponsive"

    def __str__(self) -> str:
        return str(self.value)
