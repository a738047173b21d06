"""Per-label object counts on a real broker: retained numbers and Home Assistant sensors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mqttkit import Broker, Subscriber, sink_config, wait_until

from visionedge.sinks.mqtt import MqttSink

SubFactory = Callable[..., Subscriber]


def test_counts_are_retained_per_label_and_announced_to_home_assistant(
    broker: Broker, tmp_path: Path, subscriber_factory: SubFactory
) -> None:
    cfg = sink_config(broker.port, tmp_path)
    cfg.objects.mode = "object"
    cfg.objects.labels = ["person"]
    sub = subscriber_factory(broker, ["homeassistant/#", "visionedge/cam1/#"])
    sink = MqttSink(cfg).start()
    disc = "homeassistant/device/cam1/config"
    try:
        first = sub.wait_for(disc)[0].json()["cmps"]
        # Configured labels are announced up front.
        assert first["count_person"]["state_topic"] == "visionedge/cam1/person"
        assert first["count_person"]["state_class"] == "measurement"
        sink.state("count", "2", {"label": "person"})
        sink.state("count", "1", {"label": "vehicle"})
        sink.state("count", "1", {"label": "motion"})  # would shadow the motion topic
        sub.wait_for("visionedge/cam1/vehicle")
        # A label seen for the first time is announced (re-published discovery). Each new
        # label may re-publish it on its own: wait for the one that has them all.
        want = {"count_person", "count_vehicle", "count_object_motion"}
        wait_until(lambda: want <= set(sub.on(disc)[-1].json()["cmps"]), 15,
                   f"a discovery message with {sorted(want)}")
        late = subscriber_factory(broker, ["visionedge/cam1/person", "visionedge/cam1/object_motion"],
                                  client_id="late")
        got = late.wait_for("visionedge/cam1/person")[0]
        assert got.retain and got.payload == b"2"
        assert late.wait_for("visionedge/cam1/object_motion")[0].payload == b"1"
        assert sub.on("visionedge/cam1/motion") == []
    finally:
        sink.close(5)
