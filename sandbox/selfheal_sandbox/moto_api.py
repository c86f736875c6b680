"""Routes the sandbox adds under /moto-api/, and a mended /moto-api/data.json."""

from __future__ import annotations

import json
from typing import Any, Callable

from moto.moto_api._internal import urls as api_urls
from moto.moto_api._internal.responses import MotoAPIResponse

from . import autoscaling, awslambda, servicequotas, sns

Handler = Callable[[Any, str, Any], Any]
JSON = {"Content-Type": "application/json"}


def _body(request: Any) -> dict[str, Any]:
    data = request.get_data()
    if not data and getattr(request, "form", None):
        # A client that sent JSON without a JSON content type: werkzeug parsed it as a form.
        data = next(iter(request.form.keys()), "")
    return json.loads(data or b"{}")


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], str]:
    return status, JSON, json.dumps(payload)


def decide(request: Any, full_url: str, headers: Any) -> Any:
    try:
        return _json(200, {"RequestedQuota": servicequotas.decide(_body(request))})
    except KeyError as e:
        return _json(404, {"error": str(e)})
    except ValueError as e:
        return _json(400, {"error": str(e)})


def _control(change: Any, wrap: str | None = None) -> Any:
    """A control route over one of the model's functions: 200 with its answer (under `wrap`), or 400
    naming a missing field or the model's error (ValueError, or an AWS-shaped one)."""

    def route(request: Any, full_url: str, headers: Any) -> Any:
        try:
            answer = change(_body(request))
        except KeyError as e:
            return _json(400, {"error": f"missing field {e}"})
        except Exception as e:
            return _json(400, {"error": str(e)})
        return _json(200, {wrap: answer} if wrap else answer)

    return route


set_value = _control(servicequotas.set_value, "Quota")
set_account = _control(servicequotas.set_account, "Account")
set_usage = _control(servicequotas.set_usage)
expire_reports = _control(servicequotas.expire_reports)
fire_scheduled_action = _control(autoscaling.fire)
settle_scalable_targets = _control(autoscaling.settle)


def deliveries(request: Any, full_url: str, headers: Any) -> Any:
    return _json(200, {"deliveries": sns.deliveries()})


def invocations(request: Any, full_url: str, headers: Any) -> Any:
    return _json(200, {"invocations": awslambda.invocations()})


def behaviour(request: Any, full_url: str, headers: Any) -> Any:
    try:
        return _json(200, {"behaviour": awslambda.set_behaviour(_body(request))})
    except KeyError as e:
        return _json(400, {"error": f"missing field {e}"})
    except ValueError as e:
        return _json(400, {"error": str(e)})


def health(request: Any, full_url: str, headers: Any) -> Any:
    return _json(200, {"status": "ok", "sandbox": "selfheal"})


def model_data(self: Any, request: Any, full_url: str, headers: Any) -> Any:
    """moto's data.json, minus the attributes that cannot be read.

    moto's version fails with a Docker error once a Lambda function exists: reading some of the function's
    properties asks for a Docker client, and that error is not among those it catches.
    """
    from moto.core.model_instances import model_data as all_models

    results: dict[str, dict[str, list[Any]]] = {}
    for service in sorted(all_models):
        models = all_models[service]
        results[service] = {}
        for name in sorted(models):
            results[service][name] = []
            for instance in models[name].instances_tracked:  # type: ignore[attr-defined]
                fields = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except Exception:
                        continue
                    fields[attr] = value
                results[service][name].append(fields)
    return 200, {"Content-Type": "application/javascript"}, json.dumps(results)


def install() -> None:
    MotoAPIResponse.model_data = model_data  # type: ignore[method-assign]
    api_urls.url_paths["{0}/moto-api/data.json"] = api_urls.response_instance.model_data
    original_reset = api_urls.url_paths["{0}/moto-api/reset"]

    def reset(request: Any, full_url: str, headers: Any) -> Any:
        servicequotas.reset()
        sns.reset()
        awslambda.reset()
        return original_reset(request, full_url, headers)

    api_urls.url_paths["{0}/moto-api/reset"] = reset
    api_urls.url_paths["{0}/moto-api/selfheal/health"] = health
    api_urls.url_paths["{0}/moto-api/selfheal/servicequotas/decide"] = decide
    api_urls.url_paths["{0}/moto-api/selfheal/servicequotas/set-value"] = set_value
    api_urls.url_paths["{0}/moto-api/selfheal/servicequotas/set-account"] = set_account
    api_urls.url_paths["{0}/moto-api/selfheal/servicequotas/set-usage"] = set_usage
    api_urls.url_paths["{0}/moto-api/selfheal/servicequotas/expire-reports"] = expire_reports
    api_urls.url_paths["{0}/moto-api/selfheal/sns/deliveries"] = deliveries
    api_urls.url_paths["{0}/moto-api/selfheal/lambda/invocations"] = invocations
    api_urls.url_paths["{0}/moto-api/selfheal/lambda/behaviour"] = behaviour
    api_urls.url_paths["{0}/moto-api/selfheal/autoscaling/fire"] = fire_scheduled_action
    api_urls.url_paths["{0}/moto-api/selfheal/autoscaling/settle"] = settle_scalable_targets
