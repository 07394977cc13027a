"""``infra/template.yaml`` as data: tables to create, functions and their routes, their environment.

The local server and the tests both build from this, so neither can drift from what deploys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form tags as their long form (``!Ref x`` → ``{"Ref": x}``)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)
    return data


def resources(kind: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load()
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def table_definitions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``create_table`` arguments for every DynamoDB table, named by its logical id."""
    tables = {}
    for name, res in resources("AWS::DynamoDB::Table", template).items():
        props = res["Properties"]
        spec: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        for index_kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            if index_kind in props:
                spec[index_kind] = props[index_kind]
        if "StreamSpecification" in props:
            spec["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        tables[name] = spec
    return tables


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # as in the template: /v1/members/{member_id}, or $default
    authorized: bool

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers literal segments over variables, and variables over greedy ones."""
        greedy = self.path.count("+}")
        variables = self.path.count("{") - greedy
        return (greedy, variables, -len(self.path))


@dataclass(frozen=True)
class EventSource:
    """An event source mapping: the queue or table stream a function is fed from."""

    kind: str  # "sqs" or "stream"
    resource: str  # the queue's or the table's logical id
    batch_size: int
    filters: tuple[dict[str, Any], ...] = ()
    retries: int = -1  # a stream's MaximumRetryAttempts (-1: until the record expires)
    on_failure: str | None = None  # a stream's on-failure destination queue (logical id)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    module: str  # importable module path of the handler file, e.g. functions.members.app
    handler: str  # attribute name in that module
    routes: tuple[Route, ...]
    environment: dict[str, Any] = field(default_factory=dict)
    schedule_events: tuple[tuple[str, dict[str, Any]], ...] = ()  # (event name, ScheduleV2 properties)
    sources: tuple[EventSource, ...] = ()

    def load(self) -> Callable[[dict[str, Any], Any], Any]:
        """The handler, imported as Lambda would (the module once per process)."""
        from importlib import import_module

        return cast(Callable[[dict[str, Any], Any], Any], getattr(import_module(self.module), self.handler))


def source_dir(logical_id: str) -> str:
    """``MembersFunction`` → ``members``: the same convention ``functions/Makefile`` builds with."""
    return logical_id.removesuffix("Function").lower()


def functions(template: dict[str, Any] | None = None) -> list[FunctionSpec]:
    template = template or load()
    default_auth = any(
        res["Properties"].get("Auth", {}).get("DefaultAuthorizer")
        for res in resources("AWS::Serverless::HttpApi", template).values()
    )
    sources: dict[str, list[EventSource]] = {}
    for mapping in resources("AWS::Lambda::EventSourceMapping", template).values():
        props = mapping["Properties"]
        resource, attribute = props["EventSourceArn"]["Fn::GetAtt"]
        filters = tuple(json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", []))
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", {})
        sources.setdefault(props["FunctionName"]["Ref"], []).append(
            EventSource("stream" if attribute == "StreamArn" else "sqs", resource, int(props.get("BatchSize", 10)),
                        filters, int(props.get("MaximumRetryAttempts", -1)),
                        destination["Fn::GetAtt"][0] if "Fn::GetAtt" in destination else None))
    specs = []
    for name, res in resources("AWS::Serverless::Function", template).items():
        props = res["Properties"]
        module_file, _, attribute = props["Handler"].rpartition(".")
        routes, schedules = [], []
        for event_name, event in props.get("Events", {}).items():
            ev = event.get("Properties", {})
            if event["Type"] == "HttpApi":
                authorizer = ev.get("Auth", {}).get("Authorizer")
                routes.append(Route(ev["Method"].upper(), ev["Path"], default_auth and authorizer != "NONE"))
            elif event["Type"] in ("Schedule", "ScheduleV2"):
                schedules.append((event_name, ev))
        specs.append(FunctionSpec(
            logical_id=name,
            module=f"functions.{source_dir(name)}.{module_file}",
            handler=attribute,
            routes=tuple(routes),
            environment=props.get("Environment", {}).get("Variables", {}),
            schedule_events=tuple(schedules),
            sources=tuple(sources.get(name, ())),
        ))
    return specs


def global_environment(template: dict[str, Any] | None = None) -> dict[str, Any]:
    template = template or load()
    return dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))


def resolve(value: Any, names: dict[str, str], template: dict[str, Any] | None = None) -> str:
    """Resolve an environment value locally: ``!Ref`` of a resource is its local name, of a parameter its default."""
    template = template or load()
    parameters = template.get("Parameters", {})
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        ref: str = value["Ref"]
        if ref in parameters:
            return str(parameters[ref].get("Default", ""))
        return names.get(ref, ref)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical, attribute = value["Fn::GetAtt"]
        return names.get(f"{logical}.{attribute}", names.get(logical, logical))
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        return re.sub(r"\$\{([\w.:]+)\}", lambda m: resolve({"Ref": m.group(1)}, names, template), text)
    raise ValueError(f"cannot resolve {value!r} locally")
