"""What `sam deploy` would refuse that neither cfn-lint nor `sam build` sees: the template as the SAM
transform expands it (the translator AWS runs) must have no circular dependency, and Lambda's rule that a
queue's visibility timeout is at least its consumer's timeout must hold for every queue trigger."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.translator import Translator

from localdev import template

SUB_NAMES = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def _expanded() -> dict[str, Any]:
    sam = copy.deepcopy(template.load())
    for resource in sam["Resources"].values():  # local paths become what `sam package` uploads
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = "s3://bucket/key"
    ArnGenerator.BOTO_SESSION_REGION_NAME = "us-east-1"  # the translator asks boto for a region otherwise
    session = boto3.session.Session(region_name="us-east-1")
    expanded: dict[str, Any] = Translator({}, Parser(), boto_session=session).translate(sam, parameter_values={})
    return expanded


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                yield from SUB_NAMES.findall(text)
                if isinstance(inner, list):
                    yield from _references(inner[1])
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(_expanded()["Resources"])


def test_the_expanded_template_has_no_circular_dependency(resources: dict[str, Any]) -> None:
    graph = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn", [])
        needs = set(_references(resource.get("Properties", {})))
        needs |= {depends} if isinstance(depends, str) else set(depends)
        graph[name] = needs & set(resources)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt):], nxt] if nxt in path else [node, nxt]
                pytest.fail("circular dependency: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_every_queue_stays_invisible_for_as_long_as_its_consumer_may_run(resources: dict[str, Any]) -> None:
    default_timeout = template.load()["Globals"]["Function"]["Timeout"]
    mappings = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    queues = 0
    for mapping in mappings:
        source = next(iter(_references(mapping["EventSourceArn"])))
        if resources[source]["Type"] != "AWS::SQS::Queue":
            continue
        queues += 1
        function = next(iter(_references(mapping["FunctionName"])))
        timeout = resources[function]["Properties"].get("Timeout", default_timeout)
        visibility = resources[source]["Properties"].get("VisibilityTimeout", 30)
        assert visibility >= timeout, f"{source}: VisibilityTimeout {visibility} s < {function}'s Timeout {timeout} s"
    assert queues >= 2


def test_the_layer_ships_the_versions_the_tests_run() -> None:
    """layers/common/requirements.txt (what Lambda gets, fully pinned) agrees with pyproject.toml's pins
    and with what is installed here, for every package the functions import."""
    import importlib.metadata
    import tomllib

    root = template.TEMPLATE.parents[1]
    layer = {}
    for line in (root / "layers/common/requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            layer[name.lower()] = version
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {d.split("[")[0].split("==")[0].lower(): d.split("==")[1] for d in project if "==" in d}
    assert pinned and all(layer.get(name) == version for name, version in pinned.items()), (pinned, layer)
    for name, version in layer.items():
        assert importlib.metadata.version(name) == version, name
