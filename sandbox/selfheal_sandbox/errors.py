"""Service Quotas errors, with the names and shape the real service answers with."""

from moto.core.exceptions import JsonRESTError


class NoSuchResourceException(JsonRESTError):
    def __init__(self, message: str = "The specified resource does not exist.") -> None:
        super().__init__("NoSuchResourceException", message)


class ResourceAlreadyExistsException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceAlreadyExistsException", message)


class QuotaExceededException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("QuotaExceededException", message)


class IllegalArgumentException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("IllegalArgumentException", message)


class DependencyAccessDeniedException(JsonRESTError):
    """Service Quotas could not reach a dependency, such as its service-linked role (botocore model)."""

    def __init__(self, message: str) -> None:
        super().__init__("DependencyAccessDeniedException", message)


class InvalidResourceStateException(JsonRESTError):
    """"The resource is in an invalid state" (botocore `service-quotas` model)."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidResourceStateException", message)
