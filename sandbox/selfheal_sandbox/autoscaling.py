"""Application Auto Scaling on Lambda provisioned concurrency, as AWS runs it.

moto stores scalable targets and scheduled actions but never runs them; it also takes a scheduled action
for a target never registered and keeps a deregistered target's actions. The sandbox follows AWS:

- `PutScheduledAction` on a target that is not registered answers `ObjectNotFoundException` (the
  operation's documented error: Application Auto Scaling API reference, PutScheduledAction);
- `DeregisterScalableTarget` deletes the target's scheduled actions with it ("Deregistering a scalable
  target deletes the scaling policies and the scheduled actions that are associated with it",
  DeregisterScalableTarget);
- `RegisterScalableTarget` on a Lambda alias moves its provisioned concurrency into the new bounds (a
  maximum below it scales in): the effect AWS documents for a changed minimum or maximum. AWS applies it
  some time after the call (how long is not documented), so the sandbox applies it at `settle` (a control
  route, `POST /moto-api/selfheal/autoscaling/settle`), to the targets still registered then: a target
  deregistered at once after its bounds were lowered leaves the alias's configuration as it was, since no
  document says deregistering removes it (DeregisterScalableTarget names policies and scheduled actions);
- `fire` (a control route, `POST /moto-api/selfheal/autoscaling/fire`) runs one scheduled action now, as
  its schedule would: the target's bounds become the action's, and the alias's provisioned concurrency
  is moved into them (Application Auto Scaling user guide, scheduled scaling: below the new minimum it
  scales out, above the new maximum it scales in). Capacity 0 leaves the alias with no configuration.
"""

from __future__ import annotations

from typing import Any

from moto.applicationautoscaling import models as aas_models
from moto.core.exceptions import JsonRESTError

from . import awslambda

LAMBDA_DIMENSION = "lambda:function:ProvisionedConcurrency"


class ObjectNotFoundException(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__("ObjectNotFoundException", message)


def _lambda_alias(resource_id: str) -> tuple[str, str] | None:
    parts = resource_id.split(":")
    if len(parts) == 3 and parts[0] == "function":
        return parts[1], parts[2]
    return None


def _set_capacity(account: str, region: str, resource_id: str, minimum: int | None, maximum: int | None) -> int:
    """Moves the alias's provisioned concurrency into [minimum, maximum]; answers the new capacity."""
    alias = _lambda_alias(resource_id)
    if alias is None:
        return 0
    key = (account, region, alias[0], alias[1])
    with awslambda._lock:
        current = awslambda.PROVISIONED.get(key, {}).get("AllocatedProvisionedConcurrentExecutions", 0)
        capacity = current
        if minimum is not None and capacity < minimum:
            capacity = minimum
        if maximum is not None and capacity > maximum:
            capacity = maximum
        if capacity <= 0:
            awslambda.PROVISIONED.pop(key, None)
        elif capacity != current:
            awslambda.PROVISIONED[key] = awslambda.ready_config(capacity)
    return capacity


def install() -> None:
    backend_class = aas_models.ApplicationAutoscalingBackend
    original_put = backend_class.put_scheduled_action
    original_deregister = backend_class.deregister_scalable_target
    original_register = backend_class.register_scalable_target

    def put_scheduled_action(self: Any, *args: Any, **kwargs: Any) -> Any:
        resource_id = kwargs["resource_id"]
        dimension = kwargs["scalable_dimension"]
        if not self._scalable_target_exists(resource_id, dimension):
            raise ObjectNotFoundException(
                f"No scalable target registered for service namespace: {kwargs['service_namespace']}, resource ID: {resource_id}, scalable dimension: {dimension}"
            )
        return original_put(self, *args, **kwargs)

    def deregister_scalable_target(self: Any, namespace: str, r_id: str, dimension: str) -> Any:
        original_deregister(self, namespace, r_id, dimension)
        self.scheduled_actions = [
            a for a in self.scheduled_actions if not (a.resource_id == r_id and a.scalable_dimension == dimension)
        ]

    def register_scalable_target(self: Any, namespace: str, r_id: str, dimension: str, **kwargs: Any) -> Any:
        return original_register(self, namespace, r_id, dimension, **kwargs)

    backend_class.put_scheduled_action = put_scheduled_action
    backend_class.deregister_scalable_target = deregister_scalable_target
    backend_class.register_scalable_target = register_scalable_target


def settle(body: dict[str, Any]) -> dict[str, Any]:
    """Moves the provisioned concurrency of each Lambda target of `AccountId` in `Region` into its bounds."""
    account, region = str(body["AccountId"]), str(body["Region"])
    backend = aas_models.applicationautoscaling_backends[account][region]
    settled = {}
    for resource_id, target in backend.targets.get(LAMBDA_DIMENSION, {}).items():
        settled[resource_id] = _set_capacity(account, region, resource_id, target.min_capacity, target.max_capacity)
    return {"Capacities": settled}


def fire(body: dict[str, Any]) -> dict[str, Any]:
    """Runs the scheduled action `ScheduledActionName` of `AccountId` in `Region` now."""
    account, region, name = str(body["AccountId"]), str(body["Region"]), str(body["ScheduledActionName"])
    backend = aas_models.applicationautoscaling_backends[account][region]
    action = next((a for a in backend.scheduled_actions if a.scheduled_action_name == name), None)
    if action is None:
        raise ValueError(f"no scheduled action {name} in {account} {region}")
    bounds = action.scalable_target_action or {}
    minimum, maximum = bounds.get("MinCapacity"), bounds.get("MaxCapacity")
    target = backend.targets.get(action.scalable_dimension, {}).get(action.resource_id)
    if target is not None:
        target.update(minimum, maximum, None)
    capacity = _set_capacity(account, region, action.resource_id, minimum, maximum)
    return {"ScheduledActionName": name, "ResourceId": action.resource_id, "Capacity": capacity}
