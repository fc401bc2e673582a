from enum import StrEnum

class EventKind(StrEnum):
    AUDIT = "audit"
    FIREWALL = "firewall"
    LIFECYCLE = "lifecycle"
    MONITOR = "monitor"
    PROVISIONING = "provisioning"
    ROLLOUT = "rollout"

    def __str__(self) -> str:
        return str(self.value)
