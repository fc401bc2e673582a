from enum import StrEnum

class JobKind(StrEnum):
    BATCH = "batch"
    DECOMMISSION = "decommission"
    POOL_REPOPULATE = "pool_repopulate"
    PROVISION = "provision"
    RECLAIM = "reclaim"
    RESET = "reset"
    RESET_UNDO = "reset_undo"
    ROLLOUT = "rollout"
    ROOT_PUBLISH = "root_publish"
    STAGED_START = "staged_start"
    STAGED_STOP = "staged_stop"

    def __str__(self) -> str:
        return str(self.value)
