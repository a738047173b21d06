// ESP32-S3 camera board: camera -> motion plane -> gate -> events (+ classifier while open;
// objects.mode "object"/"both": tracker, per-object classification, object events) -> MQTT, on the daemon's topics (docs/mqtt.md): <prefix>/<device>/events, .../motion,
// .../tamper, .../availability. Everything testable lives in firmware/core; this file only
// wires the ESP-IDF drivers to it. Buffers are static or allocated once before the loop.
#include <cstdio>
#include <cstring>

#include "classifier.h"
#include "ve/regions.h"
#include "esp_camera.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_random.h"
#include "esp_timer.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "freertos/task.h"
#include "gate_config.h"
#include "model_ops.h"
#include "mqtt_client.h"
#include "nvs_flash.h"
#include "ve/events.h"
#include "ve/gate.h"
#include "ve/objects.h"
#include "ve/plane.h"
#include "ve/quantize.h"

extern const uint8_t ve_model_data[];
extern const size_t ve_model_data_len;

namespace {

const char* const TAG = "visionedge";

// ESP32-S3-EYE camera pins (OV2640); change for other boards.
constexpr int kPinPwdn = -1, kPinReset = -1, kPinXclk = 15, kPinSda = 4, kPinScl = 5;
constexpr int kPinD[8] = {11, 9, 8, 10, 12, 18, 17, 16};
constexpr int kPinVsync = 6, kPinHref = 7, kPinPclk = 13;

constexpr int kWifiConnected = BIT0;
constexpr TickType_t kWifiTimeout = pdMS_TO_TICKS(30000);

EventGroupHandle_t g_net_events;
esp_mqtt_client_handle_t g_mqtt;
char g_topic_events[192], g_topic_motion[192], g_topic_tamper[192], g_topic_avail[192];

ve::MotionGate g_gate;
ve::EventTracker g_tracker;
ve::ObjectStage g_objects;                 // objects.mode "object"/"both" (docs/gate-algorithm.md §7)
ve::PixelBox g_boxes[ve::kMaxRegions];     // the frame's motion regions, the tracker's input
ve::Classifier g_classifier;
uint8_t g_plane[VE_PLANE_W * VE_PLANE_H];
uint8_t g_changed[ve::bitmap_bytes(VE_PLANE_W, VE_PLANE_H)];  // the gate's changed mask, for the crop box
ve::RegionFinder g_regions;
alignas(16) uint8_t g_arena[ve_model::kArenaBytes];
int8_t g_table[256];
bool g_ignore[ve_model::kLabelCount];

void fill_random(uint8_t* out, size_t n) { esp_fill_random(out, n); }

void publish(const char* topic, const char* payload, int len, int qos, bool retain) {
  // enqueue with store=true: QoS>0 messages wait in the outbox while the broker is away.
  if (esp_mqtt_client_enqueue(g_mqtt, topic, payload, len, qos, retain ? 1 : 0, true) < 0) {
    ESP_LOGW(TAG, "MQTT outbox full; dropped a message on %s", topic);
  }
}

// objects.mode = "object": the motion events still drive the motion state, but are not sent.
class NullSink final : public ve::EventSink {
 public:
  ve::Status publish(const char*, size_t) override { return ve::Status::kOk; }
};

class MqttSink final : public ve::EventSink {
 public:
  ve::Status publish(const char* json, size_t len) override {
    ::publish(g_topic_events, json, static_cast<int>(len), CONFIG_VE_MQTT_QOS, false);
    std::printf("%.*s\n", static_cast<int>(len), json);  // also on the serial console
    return ve::Status::kOk;
  }
};

void on_wifi(void*, esp_event_base_t base, int32_t id, void*) {
  if (base == WIFI_EVENT && (id == WIFI_EVENT_STA_START || id == WIFI_EVENT_STA_DISCONNECTED)) {
    xEventGroupClearBits(g_net_events, kWifiConnected);
    esp_wifi_connect();  // retried on every disconnect; the MQTT client reconnects by itself
  } else if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) {
    xEventGroupSetBits(g_net_events, kWifiConnected);
  }
}

void on_mqtt(void*, esp_event_base_t, int32_t id, void*) {
  if (id == MQTT_EVENT_CONNECTED) {
    publish(g_topic_avail, "online", 6, 1, true);
  }
}

bool start_network() {
  g_net_events = xEventGroupCreate();
  ESP_ERROR_CHECK(esp_netif_init());
  ESP_ERROR_CHECK(esp_event_loop_create_default());
  esp_netif_create_default_wifi_sta();
  wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
  ESP_ERROR_CHECK(esp_wifi_init(&init));
  ESP_ERROR_CHECK(esp_event_handler_instance_register(WIFI_EVENT, ESP_EVENT_ANY_ID, &on_wifi, nullptr, nullptr));
  ESP_ERROR_CHECK(esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_GOT_IP, &on_wifi, nullptr, nullptr));
  wifi_config_t wc = {};
  std::strncpy(reinterpret_cast<char*>(wc.sta.ssid), CONFIG_VE_WIFI_SSID, sizeof wc.sta.ssid - 1);
  std::strncpy(reinterpret_cast<char*>(wc.sta.password), CONFIG_VE_WIFI_PASSWORD, sizeof wc.sta.password - 1);
  ESP_ERROR_CHECK(esp_wifi_set_mode(WIFI_MODE_STA));
  ESP_ERROR_CHECK(esp_wifi_set_config(WIFI_IF_STA, &wc));
  ESP_ERROR_CHECK(esp_wifi_start());
  const EventBits_t bits = xEventGroupWaitBits(g_net_events, kWifiConnected, pdFALSE, pdTRUE, kWifiTimeout);
  if ((bits & kWifiConnected) == 0) {
    ESP_LOGE(TAG, "Wi-Fi '%s' not joined within 30 s; check VE_WIFI_SSID/VE_WIFI_PASSWORD in menuconfig "
                  "(events still print on the serial console)", CONFIG_VE_WIFI_SSID);
  }
  const char* prefix = ve_config::kMqttPrefix;
  const char* dev = ve_config::kDeviceName;
  std::snprintf(g_topic_events, sizeof g_topic_events, "%s/%s/events", prefix, dev);
  std::snprintf(g_topic_motion, sizeof g_topic_motion, "%s/%s/motion", prefix, dev);
  std::snprintf(g_topic_tamper, sizeof g_topic_tamper, "%s/%s/tamper", prefix, dev);
  std::snprintf(g_topic_avail, sizeof g_topic_avail, "%s/%s/availability", prefix, dev);
  esp_mqtt_client_config_t mc = {};
  mc.broker.address.uri = CONFIG_VE_MQTT_URI;
  mc.credentials.client_id = dev;  // stable: the broker resumes our session
  if (CONFIG_VE_MQTT_USERNAME[0] != '\0') {
    mc.credentials.username = CONFIG_VE_MQTT_USERNAME;
    mc.credentials.authentication.password = CONFIG_VE_MQTT_PASSWORD;
  }
  mc.session.keepalive = 30;
  mc.session.disable_clean_session = true;
  mc.session.last_will.topic = g_topic_avail;
  mc.session.last_will.msg = "offline";
  mc.session.last_will.msg_len = 7;
  mc.session.last_will.qos = 1;
  mc.session.last_will.retain = 1;
  g_mqtt = esp_mqtt_client_init(&mc);
  if (g_mqtt == nullptr) {
    ESP_LOGE(TAG, "MQTT client not created; check VE_MQTT_URI (%s)", CONFIG_VE_MQTT_URI);
    return false;
  }
  esp_mqtt_client_register_event(g_mqtt, static_cast<esp_mqtt_event_id_t>(ESP_EVENT_ANY_ID), &on_mqtt, nullptr);
  return esp_mqtt_client_start(g_mqtt) == ESP_OK;
}

bool start_camera() {
  camera_config_t c = {};
  c.pin_pwdn = kPinPwdn;
  c.pin_reset = kPinReset;
  c.pin_xclk = kPinXclk;
  c.pin_sccb_sda = kPinSda;
  c.pin_sccb_scl = kPinScl;
  c.pin_d0 = kPinD[0]; c.pin_d1 = kPinD[1]; c.pin_d2 = kPinD[2]; c.pin_d3 = kPinD[3];
  c.pin_d4 = kPinD[4]; c.pin_d5 = kPinD[5]; c.pin_d6 = kPinD[6]; c.pin_d7 = kPinD[7];
  c.pin_vsync = kPinVsync;
  c.pin_href = kPinHref;
  c.pin_pclk = kPinPclk;
  c.xclk_freq_hz = 20000000;
  c.ledc_timer = LEDC_TIMER_0;
  c.ledc_channel = LEDC_CHANNEL_0;
  c.pixel_format = PIXFORMAT_GRAYSCALE;  // the Y plane: no colour conversion needed
  c.frame_size = FRAMESIZE_QQVGA;        // 160x120 = the motion plane at gate.width = 160
  c.fb_count = 2;
  c.fb_location = CAMERA_FB_IN_PSRAM;
  c.grab_mode = CAMERA_GRAB_LATEST;      // latest wins, like the daemon's frame queue
  const esp_err_t err = esp_camera_init(&c);
  if (err != ESP_OK) {
    ESP_LOGE(TAG, "camera init failed (%s); check the pin map in main.cpp for your board", esp_err_to_name(err));
    return false;
  }
  return true;
}

bool is_ignored(const char* label) {
  for (int i = 0; i < ve_config::kIgnoreCount; ++i) {
    if (std::strcmp(ve_config::kIgnoreLabels[i], label) == 0) return true;
  }
  return false;
}

void fail_forever(const char* what, ve::Status st) {
  for (;;) {
    ESP_LOGE(TAG, "error %s (%d): %s; %s", ve::status_name(st), static_cast<int>(st), what, ve::status_message(st));
    vTaskDelay(pdMS_TO_TICKS(5000));
  }
}

}  // namespace

extern "C" void app_main(void) {
  esp_err_t err = nvs_flash_init();
  if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
    ESP_ERROR_CHECK(nvs_flash_erase());
    err = nvs_flash_init();
  }
  ESP_ERROR_CHECK(err);
  g_gate.set_changed_output(g_changed);
  ve::Status st = g_gate.configure(ve_config::gate_params());
  if (st != ve::Status::kOk) fail_forever("gate_config.h", st);
  ve::EventParams ep = ve_config::event_params();
  ep.deterministic_ids = false;  // live: UUIDv4 from the hardware RNG
  char why[160];
  const bool classify = ve_config::kClassifierEnabled;
  if (classify) {
    st = g_classifier.init(ve_model_data, ve_model_data_len, g_arena, sizeof g_arena, why, sizeof why);
    if (st != ve::Status::kOk) fail_forever(why, st);
    ESP_LOGI(TAG, "model %s: arena %u of %u bytes used", ve_model::kName,
             static_cast<unsigned>(g_classifier.arena_used()), static_cast<unsigned>(sizeof g_arena));
    st = ve::build_quant_table(g_classifier.input_spec(), g_table);
    if (st != ve::Status::kOk) fail_forever("input quantization", st);
    for (int i = 0; i < ve_model::kLabelCount; ++i) g_ignore[i] = is_ignored(ve_model::kLabels[i]);
    ep.classify = true;
    ep.model_name = ve_model::kName;
    ep.model_sha256 = ve_model::kSha256;
    ep.labels = ve_model::kLabels;
    ep.label_count = ve_model::kLabelCount;
  }
  st = g_tracker.configure(ep, g_gate.params(), &fill_random);
  if (st != ve::Status::kOk) fail_forever("event parameters", st);
  const ve::ObjectParams op = ve_config::object_params();
  if (op.mode != ve::ObjectMode::kMotion) {
    st = g_objects.configure(op, ep, g_gate.params(), &fill_random);
    if (st != ve::Status::kOk) fail_forever("object parameters", st);
  }
  if (!start_camera()) fail_forever("camera", ve::Status::kIo);
  start_network();
  publish(g_topic_motion, "OFF", 3, 1, true);

  MqttSink sink;
  NullSink quiet;
  ve::EventSink& motion_sink = op.mode == ve::ObjectMode::kObject ? static_cast<ve::EventSink&>(quiet) : sink;
  const int64_t t0 = esp_timer_get_time();
  const TickType_t period = pdMS_TO_TICKS(1000 / CONFIG_VE_FPS);
  TickType_t wake = xTaskGetTickCount();
  uint32_t index = 0;
  int last_classified = -1000000;
  bool was_open = false;
  bool was_tampered = false;
  for (;; ++index) {
    vTaskDelayUntil(&wake, period);
    camera_fb_t* fb = esp_camera_fb_get();
    if (fb == nullptr) {
      ESP_LOGW(TAG, "camera returned no frame (frame %u)", static_cast<unsigned>(index));
      continue;
    }
    const int fw = static_cast<int>(fb->width), fh = static_cast<int>(fb->height);
    int pw = 0, ph = 0;
    st = ve::to_motion_plane(fb->buf, fw, fh, ve::PixelFormat::kGray8, ve::plane_factor(fw, VE_PLANE_W), g_plane,
                             static_cast<int>(sizeof g_plane), &pw, &ph);
    ve::GateResult r;
    if (st == ve::Status::kOk) st = g_gate.process(g_plane, pw, ph, index, ve::ExposureInfo::none(), &r);
    if (st != ve::Status::kOk) {
      esp_camera_fb_return(fb);
      ESP_LOGE(TAG, "error %s: frame %dx%d; %s", ve::status_name(st), fw, fh, ve::status_message(st));
      continue;
    }
    const uint32_t ts = static_cast<uint32_t>((esp_timer_get_time() - t0) / 1000);
    g_tracker.on_gate(ve::FrameInfo{index, ts, ""}, r, motion_sink);
    double box[4];
    // docs/gate-algorithm.md §6: the frame's largest motion region, else the event's union box.
    if (classify && op.mode != ve::ObjectMode::kObject && ve::classification_due(r, g_tracker) &&
        g_tracker.classified_frames() < ve_config::kClassifyMaxPerEvent &&
        static_cast<int>(index) - last_classified >= ve_config::kClassifyEveryNFrames &&
        ve::classify_box(g_regions, g_changed, r, g_gate.params(), ve_config::kMinRegionPixels, g_tracker, box) !=
            ve::CropSource::kNone) {
      const ve::InputSpec spec = g_classifier.input_spec();
      const ve::CropRect rect = ve::crop_rect(box, fw, fh, static_cast<double>(spec.width) / spec.height,
                                              ve_config::kClassifyMargin);
      if (ve::crop_resize_quantize(fb->buf, fw, fh, ve::PixelFormat::kGray8, rect, spec, g_table,
                                   g_classifier.input()) == ve::Status::kOk &&
          g_classifier.invoke() == ve::Status::kOk) {
        ve::Prediction top[8];
        const ve::TensorInfo& o = g_classifier.output_info();
        const int n = ve::rank_outputs(g_classifier.output(), o.count, o.scale, o.zero_point,
                                       ve_config::kClassifyThreshold, g_ignore, ve_config::kTopK, top, 8);
        g_tracker.on_classification(top, n, motion_sink);
        last_classified = static_cast<int>(index);
      }
    }
    if (op.mode != ve::ObjectMode::kMotion) {
      // §7: every motion region of an open, not rejected frame; each picked object on its box.
      const ve::GateParams& g = g_gate.params();
      const int nr = (r.has_box && r.motion) ? g_regions.find(g_changed, g.plane_w, g.plane_h,
                                                              ve_config::kMinRegionPixels, g_boxes, ve::kMaxRegions)
                                             : 0;
      g_objects.track(ve::FrameInfo{index, ts, ""}, g_boxes, nr, r.reason != ve::Reason::kNone && !r.opened);
      ve::ObjectPick picks[ve::kMaxClassifyPerFrame];
      const int k = classify ? g_objects.due(ve_config::kClassifyEveryNFrames, ve_config::kClassifyMaxPerEvent,
                                             picks, ve::kMaxClassifyPerFrame)
                             : 0;
      for (int i = 0; i < k; ++i) {
        const double ob[4] = {ve::round_decimals(static_cast<double>(picks[i].box.x0) / g.plane_w, 4),
                              ve::round_decimals(static_cast<double>(picks[i].box.y0) / g.plane_h, 4),
                              ve::round_decimals(static_cast<double>(picks[i].box.x1) / g.plane_w, 4),
                              ve::round_decimals(static_cast<double>(picks[i].box.y1) / g.plane_h, 4)};
        const ve::InputSpec spec = g_classifier.input_spec();
        const ve::CropRect rect = ve::crop_rect(ob, fw, fh, static_cast<double>(spec.width) / spec.height,
                                                ve_config::kClassifyMargin);
        ve::Prediction top[ve::kMaxTop];
        int n = 0;
        if (ve::crop_resize_quantize(fb->buf, fw, fh, ve::PixelFormat::kGray8, rect, spec, g_table,
                                     g_classifier.input()) == ve::Status::kOk &&
            g_classifier.invoke() == ve::Status::kOk) {
          const ve::TensorInfo& o = g_classifier.output_info();
          n = ve::rank_outputs(g_classifier.output(), o.count, o.scale, o.zero_point,
                               ve_config::kClassifyThreshold, g_ignore, ve_config::kTopK, top, ve::kMaxTop);
        }
        g_objects.classified(picks[i].id, top, n);
      }
      st = g_objects.emit(sink);
      if (st != ve::Status::kOk) ESP_LOGE(TAG, "object event: %s", ve::status_message(st));
    }
    esp_camera_fb_return(fb);
    if (g_tracker.is_open() != was_open) {
      was_open = g_tracker.is_open();
      publish(g_topic_motion, was_open ? "ON" : "OFF", was_open ? 2 : 3, 1, true);
      if (!was_open) last_classified = -1000000;
    }
    if (r.tampered != was_tampered) {
      was_tampered = r.tampered;
      char msg[96];
      const int len = std::snprintf(msg, sizeof msg, "{\"state\":\"%s\",\"reason\":\"%s\"}",
                                    r.tampered ? "ON" : "OFF", ve::tamper_reason_name(r.tamper_reason));
      publish(g_topic_tamper, msg, len, 1, true);
    }
  }
}
