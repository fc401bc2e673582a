from enum import StrEnum

class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    STUDENT = "student"

    def __str__(self) -> str:
        return str(self.value)
