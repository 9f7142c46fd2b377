#!/usr/bin/env python3
"""Checks that an example's mapping.lua (the RabbitMQ consumer's mapping)
and its send-event.sh (today's REST transport) turn the same events into the
same action. Runs the mapping in bpmnd's Lua sandbox: a generated diagram
whose script task calls the mapping chunk with the event, one
`bpmnctl test` scenario per event expecting what `send-event.sh --print`
sends (typed REST variables read back as plain values).

  check_mapping.py BPMNCTL EXAMPLE_DIR EVENTS.jsonl
Prints one line per event that differs; exit 0 when all agree."""
import json
import os
import subprocess
import sys
import tempfile
from xml.sax.saxutils import escape

ctl, example, events = sys.argv[1:4]
mapping = open(os.path.join(example, "mapping.lua")).read()
script = "local function map(...)\n" + mapping + "\nend\nvars.result = map(vars.event)\n"
diagram = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="mapping" isExecutable="true">
    <bpmn:startEvent id="S"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Map" />
    <bpmn:scriptTask id="Map" scriptFormat="lua"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="Map" targetRef="E" />
    <bpmn:endEvent id="E"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
lines = [l for l in open(events) if l.strip()]
sent = subprocess.run([os.path.join(example, "send-event.sh"), "--print", events], capture_output=True, text=True,
                      check=True).stdout.splitlines()
assert len(sent) == len(lines), (len(sent), len(lines))
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "mapping.bpmn")
    open(path, "w").write(diagram)
    scenarios = []
    for i, (line, req) in enumerate(zip(lines, sent)):
        r = json.loads(req)
        variables = {k: (json.loads(v["value"]) if v["type"] == "Json" else v["value"])
                     for k, v in r["processVariables"].items()}
        expected = {"message": r["messageName"], "businessKey": r["businessKey"], "variables": variables}
        s = os.path.join(d, f"mapping.e{i:03d}.scenario")
        with open(s, "w") as f:
            f.write(f"start vars {json.dumps({'event': json.loads(line)})}\n")
            f.write("expect ended\n")
            f.write(f"expect vars {json.dumps({'result': expected})}\n")
        scenarios.append(s)
    out = subprocess.run([ctl, "test", path] + scenarios, capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stdout + out.stderr)
        sys.exit(1)
    print(out.stdout.strip().splitlines()[-1])
