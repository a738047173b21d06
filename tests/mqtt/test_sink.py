"""The MQTT sink against a real mosquitto: delivery, outages, restarts, states, discovery, control."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mqttkit import (
    MOSQUITTO,
    PASSWORD,
    USER,
    Broker,
    Certs,
    Subscriber,
    fake_event,
    sink_config,
    wait_until,
)

from visionedge.config import Config
from visionedge.service.control import Controller
from visionedge.sinks import build_sinks
from visionedge.sinks.mqtt import MqttSink

EVENTS = "visionedge/cam1/events"

SubFactory = Callable[..., Subscriber]


def _keys(sub: Subscriber) -> list[tuple[str, int]]:
    return [(m.json()["event_id"], m.json()["seq"]) for m in sub.on(EVENTS)]


def _dedupe(keys: list[tuple[str, int]]) -> list[tuple[str, int]]:
    seen: set[tuple[str, int]] = set()
    out = []
    for k in keys:
        if k not in seen:
            seen.add(k)
            out.append(k)
    return out


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_events_arrive_in_order_and_leave_the_spool(
    broker: Broker, tmp_path: Path, subscriber_factory: SubFactory, protocol: str
) -> None:
    sub = subscriber_factory(broker, [EVENTS])
    sink = MqttSink(sink_config(broker.port, tmp_path, protocol=protocol)).start()
    try:
        for i in range(200):
            sink.publish(fake_event(i))
        got = sub.wait_for(EVENTS, 200)
        assert [m.json()["n"] for m in got] == list(range(200))
        assert not any(m.retain for m in got)
        wait_until(lambda: sink.spool.depth == 0, 10, "spool to drain")
        assert sink.counters.events_acked == 200
    finally:
        sink.close(5)


def test_registry_builds_the_mqtt_sink(broker: Broker, tmp_path: Path) -> None:
    sinks = build_sinks(sink_config(broker.port, tmp_path))
    try:
        assert [type(s).__name__ for s in sinks] == ["MqttSink"]
    finally:
        for s in sinks:
            s.close(2)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_broker_outage_loses_nothing_and_keeps_order(
    broker: Broker, tmp_path: Path, subscriber_factory: SubFactory, protocol: str
) -> None:
    sub = subscriber_factory(broker, [EVENTS])
    sink = MqttSink(sink_config(broker.port, tmp_path, protocol=protocol)).start()
    try:
        wait_until(sink.connected.is_set, 10, "sink to connect")
        for i in range(50):
            sink.publish(fake_event(i))
        broker.stop()
        for i in range(50, 120):  # published while the broker is away: spooled
            sink.publish(fake_event(i))
            time.sleep(0.01)
        time.sleep(2.0)
        assert sink.spool.depth >= 70
        broker.start()
        wait_until(lambda: len(_dedupe(_keys(sub))) >= 120, 20, "all 120 events after restart")
        keys = _keys(sub)
        unique = _dedupe(keys)
        assert [seq for _, seq in unique] == list(range(120))
        # Any duplicate is a byte-identical redelivery of the same (event_id, seq).
        by_key: dict[tuple[str, int], bytes] = {}
        for m in sub.on(EVENTS):
            k = (m.json()["event_id"], m.json()["seq"])
            assert by_key.setdefault(k, m.payload) == m.payload
        wait_until(lambda: sink.spool.depth == 0, 10, "spool to drain")
        assert sink.counters.reconnects >= 1
    finally:
        sink.close(5)


def test_spooled_events_are_sent_after_a_restart(
    broker: Broker, tmp_path: Path, subscriber_factory: SubFactory
) -> None:
    broker.stop()
    first = MqttSink(sink_config(broker.port, tmp_path)).start()
    for i in range(30):
        first.publish(fake_event(i))
    first.close(1)  # the broker is down: nothing can be flushed, the rows stay on disk
    broker.start()
    sub = subscriber_factory(broker, [EVENTS])
    second = MqttSink(sink_config(broker.port, tmp_path)).start()
    try:
        got = sub.wait_for(EVENTS, 30)
        assert [m.json()["n"] for m in got] == list(range(30))
        wait_until(lambda: second.spool.depth == 0, 10, "spool to drain")
    finally:
        second.close(5)


def test_states_snapshot_and_availability_are_retained(
    broker: Broker, tmp_path: Path, subscriber_factory: SubFactory
) -> None:
    sink = MqttSink(sink_config(broker.port, tmp_path)).start()
    try:
        sink.state("motion", "ON", {"frame": 3})
        sink.state("tamper", "tamper", {"reason": "covered", "frame": 4})
        sink.snapshot("e1", b"\xff\xd8fakejpeg\xff\xd9")
        wait_until(sink.connected.is_set, 10, "sink to connect")
        time.sleep(0.5)
        # A subscriber that arrives later gets the retained states.
        late = subscriber_factory(broker, ["visionedge/cam1/#"])
        assert late.wait_for("visionedge/cam1/motion")[-1].payload == b"ON"
        tamper = late.wait_for("visionedge/cam1/tamper")[-1]
        assert tamper.retain and tamper.json() == {"state": "ON", "reason": "covered"}
        assert late.wait_for("visionedge/cam1/snapshot")[-1].payload.startswith(b"\xff\xd8")
        assert late.wait_for("visionedge/cam1/availability")[-1].payload == b"online"
        sink.state("motion", "OFF")
        wait_until(lambda: late.on("visionedge/cam1/motion")[-1].payload == b"OFF", 10, "OFF")
        sink.publish_stats({"fps": 10.0})
        stats = late.wait_for("visionedge/cam1/stats")[-1].json()
        assert stats["fps"] == 10.0 and stats["spool_depth"] == 0 and "spool_dropped" in stats
    finally:
        sink.close(5)
    # A clean close says offline (retained).
    after = subscriber_factory(broker, ["visionedge/cam1/availability"])
    assert after.wait_for("visionedge/cam1/availability")[-1].payload == b"offline"


def test_last_will_reports_offline_when_the_process_dies(
    broker: Broker, tmp_path: Path, subscriber_factory: SubFactory
) -> None:
    sub = subscriber_factory(broker, ["visionedge/cam1/availability"])
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from mqttkit import sink_config
        from pathlib import Path
        from visionedge.sinks.mqtt import MqttSink
        s = MqttSink(sink_config({broker.port}, Path({str(tmp_path)!r}))).start()
        s.connected.wait(10)
        print("up", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"up"
        wait_until(lambda: any(m.payload == b"online" for m in sub.on(
            "visionedge/cam1/availability")), 10, "online")
        proc.kill()
        proc.wait(5)
        wait_until(lambda: sub.on("visionedge/cam1/availability")[-1].payload == b"offline",
                   20, "the last will (offline)")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_password_auth_works_and_a_wrong_password_backs_off_without_leaking(
    password_broker: Broker, tmp_path: Path, subscriber_factory: SubFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + PASSWORD
    (tmp_path / "bad").write_text(wrong + "\n")
    (tmp_path / "good").write_text(PASSWORD + "\n")
    bad_dir = tmp_path / "badsink"
    bad_dir.mkdir()
    bad = MqttSink(sink_config(password_broker.port, bad_dir, username=USER,
                               password_file=str(tmp_path / "bad"),
                               reconnect_min_s=0.2, reconnect_max_s=0.8)).start()
    try:
        bad.publish(fake_event(1))
        wait_until(lambda: bad.counters.connect_failures >= 3, 15, "repeated refusals")
        assert "Bad user name or password" in bad.last_error or "Not authorized" in bad.last_error
        assert "password file" in bad.last_error
        started = time.monotonic()
        n0 = bad.counters.connect_failures
        time.sleep(2.0)
        rate = (bad.counters.connect_failures - n0) / (time.monotonic() - started)
        assert rate < 10, f"{rate:.1f} connection attempts/s: no backoff"
        assert bad._thread is not None and bad._thread.is_alive()
        assert bad.spool.depth == 1  # kept for when the credentials are fixed
    finally:
        bad.close(1)
    sub = subscriber_factory(password_broker, [EVENTS], username=USER, password=PASSWORD)
    good = MqttSink(sink_config(password_broker.port, tmp_path, username=USER,
                                password_file=str(tmp_path / "good"))).start()
    try:
        good.publish(fake_event(7))
        assert sub.wait_for(EVENTS)[0].json()["n"] == 7
    finally:
        good.close(5)
    for text in (caplog.text, bad.last_error):
        assert PASSWORD not in text and wrong not in text


def test_tls_with_the_right_ca_delivers(
    tls_broker: Broker, tmp_path: Path, certs: Certs, subscriber_factory: SubFactory
) -> None:
    sub = subscriber_factory(tls_broker, [EVENTS], certs=certs)
    sink = MqttSink(sink_config(tls_broker.port, tmp_path,
                                tls={"enabled": True, "ca_file": str(certs.ca)})).start()
    try:
        sink.publish(fake_event(3))
        assert sub.wait_for(EVENTS)[0].json()["n"] == 3
    finally:
        sink.close(5)


def test_tls_with_an_untrusted_ca_is_a_clear_error_with_backoff(
    tls_broker: Broker, tmp_path: Path, certs: Certs
) -> None:
    sink = MqttSink(sink_config(tls_broker.port, tmp_path, reconnect_min_s=0.2,
                                reconnect_max_s=0.5,
                                tls={"enabled": True, "ca_file": str(certs.other_ca)})).start()
    try:
        sink.publish(fake_event(1))
        wait_until(lambda: sink.counters.connect_failures >= 2, 15, "TLS failures")
        assert "not trusted" in sink.last_error and "mqtt.tls.ca_file" in sink.last_error
        assert not sink.connected.is_set() and sink.spool.depth == 1
    finally:
        sink.close(1)


def test_home_assistant_discovery_and_reannounce(
    broker: Broker, tmp_path: Path, subscriber_factory: SubFactory
) -> None:
    sub = subscriber_factory(broker, ["homeassistant/#"])
    sink = MqttSink(sink_config(broker.port, tmp_path)).start()
    topic = "homeassistant/device/cam1/config"
    try:
        msg = sub.wait_for(topic)[0]
        late = subscriber_factory(broker, [topic])
        assert late.wait_for(topic)[0].retain  # retained for a Home Assistant that starts later
        d = msg.json()
        assert d["o"]["name"] == "visionedge" and d["o"]["sw"]
        assert d["dev"]["ids"] == ["visionedge_cam1"]
        assert d["availability"][0]["topic"] == "visionedge/cam1/availability"
        cmps = d["cmps"]
        assert {k: v["p"] for k, v in cmps.items()} == {
            "motion": "binary_sensor", "label": "sensor", "tamper": "binary_sensor",
            "camera": "binary_sensor", "snapshot": "image",
        }
        assert cmps["motion"]["device_class"] == "motion"
        assert cmps["camera"]["device_class"] == "connectivity"
        assert cmps["camera"]["state_topic"] == "visionedge/cam1/camera"
        assert cmps["motion"]["state_topic"] == "visionedge/cam1/motion"
        assert cmps["tamper"]["device_class"] == "tamper"
        assert cmps["snapshot"]["image_topic"] == "visionedge/cam1/snapshot"
        assert len({v["unique_id"] for v in cmps.values()}) == 5
        # Home Assistant's birth message triggers a re-announcement.
        sub.publish("homeassistant/status", "online")
        sub.wait_for(topic, 2)
        sub.publish("homeassistant/status", "offline")
        time.sleep(0.5)
        assert len(sub.on(topic)) == 2
    finally:
        sink.close(5)


class _Target:
    def __init__(self) -> None:
        self.config = Config()
        self.enabled = True
        self.lock = threading.Lock()

    def current_config(self) -> Config:
        return self.config

    def apply_config(self, config: Config) -> None:
        self.config = config

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled


def test_control_topics_good_and_bad_and_resubscribed_after_reconnect(
    broker: Broker, tmp_path: Path, subscriber_factory: SubFactory
) -> None:
    target = _Target()
    cfg = sink_config(broker.port, tmp_path, max_payload_bytes=1024)
    sink = MqttSink(cfg, controller=Controller(target, max_payload_bytes=1024)).start()
    sub = subscriber_factory(broker, ["visionedge/cam1/reply"])
    reply = "visionedge/cam1/reply"
    try:
        wait_until(sink.connected.is_set, 10, "connect")
        time.sleep(0.3)  # the sink's subscription is in place
        sub.publish("visionedge/cam1/set/gate/start_pct", "2.0")
        r = sub.wait_for(reply)[-1].json()
        assert r == {"command": "set/gate/start_pct", "ok": True,
                     "applied": {"gate.start_pct": 2.0}}
        assert target.config.gate.start_pct == 2.0
        before = target.config.model_dump()
        for topic, payload in [
            ("visionedge/cam1/set/gate/start_pct", "fast"),
            ("visionedge/cam1/set/gate/stop_pct", "50"),
            ("visionedge/cam1/set/nonsense", "1"),
            ("visionedge/cam1/set/gate", "x" * 5000),
        ]:
            sub.publish(topic, payload)
        replies = sub.wait_for(reply, 5)[1:]
        assert [x.json()["ok"] for x in replies] == [False] * 4
        assert "exceeds" in replies[-1].json()["error"]
        assert target.config.model_dump() == before
        assert sink.counters.control_rejected == 4 and sink.counters.control_ok == 1
        assert sink.counters.oversized_messages == 1
        # After a broker restart (sessions lost) the subscription is made again.
        broker.restart(0.5)
        wait_until(lambda: sink.counters.reconnects >= 1 and sink.connected.is_set(), 15,
                   "reconnect")
        time.sleep(0.5)
        sub.publish("visionedge/cam1/set/enabled", "OFF")
        wait_until(lambda: target.enabled is False, 10, "set/enabled OFF after reconnect")
    finally:
        sink.close(5)


def test_a_refused_client_id_is_named_and_a_valid_one_delivers(
    tmp_path: Path, subscriber_factory: SubFactory
) -> None:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh test installs it)")
    strict = Broker(tmp_path, extra=("clientid_prefixes allowed-",))
    strict.start()
    try:
        refused = tmp_path / "refused"
        refused.mkdir()
        sink = MqttSink(sink_config(strict.port, refused, reconnect_min_s=0.2,
                                    reconnect_max_s=0.5)).start()
        try:
            sink.publish(fake_event(1))
            wait_until(lambda: sink.counters.connect_failures >= 2, 15, "refusals")
            assert "'visionedge-cam1'" in sink.last_error and "client id" in sink.last_error
            assert sink.spool.depth == 1
        finally:
            sink.close(1)
        sub = subscriber_factory(strict, [EVENTS], client_id="allowed-sub")
        ok = MqttSink(sink_config(strict.port, refused, client_id="allowed-cam1")).start()
        try:
            assert sub.wait_for(EVENTS)[0].json()["n"] == 1  # the spooled event, now delivered
        finally:
            ok.close(5)
    finally:
        strict.stop()


def test_mutual_tls_needs_the_client_certificate(
    tmp_path: Path, certs: Certs, subscriber_factory: SubFactory
) -> None:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh test installs it)")
    mtls = Broker(tmp_path, certs=certs, extra=("require_certificate true",))
    mtls.start()
    try:
        without = tmp_path / "without"
        without.mkdir()
        sink = MqttSink(sink_config(mtls.port, without, reconnect_min_s=0.2, reconnect_max_s=0.5,
                                    tls={"enabled": True, "ca_file": str(certs.ca)})).start()
        try:
            sink.publish(fake_event(1))
            wait_until(lambda: sink.counters.connect_failures >= 2, 15, "refused without a cert")
            assert not sink.connected.is_set() and sink.spool.depth == 1
            assert "mqtt.tls.certfile" in sink.last_error
        finally:
            sink.close(1)
        tls = {"enabled": True, "ca_file": str(certs.ca), "certfile": str(certs.client_cert),
               "keyfile": str(certs.client_key)}
        sub = subscriber_factory(mtls, [EVENTS], tls_client=True, certs=certs)
        ok = MqttSink(sink_config(mtls.port, without, tls=tls)).start()
        try:
            assert sub.wait_for(EVENTS)[0].json()["n"] == 1  # the spooled event
        finally:
            ok.close(5)
    finally:
        mtls.stop()


def test_an_event_the_broker_refuses_is_counted_not_retried_forever(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh test installs it)")
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite visionedge/cam1/availability\n"
                   "topic read visionedge/cam1/set/#\n")
    strict = Broker(tmp_path, extra=(f"acl_file {acl}",))
    strict.start()
    sink = MqttSink(sink_config(strict.port, tmp_path, discovery=False)).start()
    try:
        for i in range(3):
            sink.publish(fake_event(i))
        wait_until(lambda: sink.counters.broker_rejected == 3, 15, "three refusals")
        wait_until(lambda: sink.spool.depth == 0, 5, "refused events leave the spool")
        assert "ACL" in caplog.text and "visionedge/cam1/events" in caplog.text
    finally:
        sink.close(2)
        strict.stop()


def test_a_running_sink_hands_the_gil_over_within_a_millisecond(
    broker: Broker, tmp_path: Path
) -> None:
    # Issue 11: at Python's 5 ms switch interval the I/O thread waited for the analysis
    # thread's GIL for most of the way from commit to subscriber.
    from visionedge.sinks.mqtt import GIL_SWITCH_S

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    sink = MqttSink(sink_config(broker.port, tmp_path)).start()
    try:
        assert sys.getswitchinterval() <= GIL_SWITCH_S <= 0.001
    finally:
        sink.close(2)
        sys.setswitchinterval(before)
