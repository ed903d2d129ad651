// A publisher stream's rtpjitterbuffer as decideNackPerStream (Workarounds.hpp, 1)
// configures it, in real time (GstHarness on the system clock, latency 100 ms as
// webrtcbin sets it): a video packet in sequence comes out however long after the
// previous one it arrives (a publisher pausing between frames: with rtx-next-seqnum on,
// the jitterbuffer NACKed it, declared it lost and dropped it as too late), a real gap is
// still NACKed, audio is never NACKed, and a packet dropped on arrival is posted on the
// bus as a drop message. What a correct build must show is waited for (up to 2 s), so a
// slow machine cannot fail it; a pause only ever lets a broken build pass by luck.
#include <gst/check/gstharness.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "pipelines/webrtc/WebrtcEngine.hpp"
#include "pipelines/webrtc/Workarounds.hpp"
#include "tests/support/ManualScheduler.hpp"

using namespace manifold::media;

namespace {

constexpr guint32 kSsrc = 0x1234;

class JitterBufferTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { gst_init(nullptr, nullptr); }

    void SetUp() override {
        rtpbin_ = gst_element_factory_make("rtpbin", nullptr);
        ASSERT_NE(rtpbin_, nullptr);
        gst_object_ref_sink(rtpbin_);
        decideNackPerStream(rtpbin_, engine_, "[test] ");
    }
    void TearDown() override {
        if (h_) gst_harness_teardown(h_);
        if (bus_) gst_object_unref(bus_);
        gst_object_unref(rtpbin_);
    }

    /// A jitterbuffer as webrtcbin makes it (latency 100, do-lost), announced through
    /// rtpbin's new-jitterbuffer, fed by a harness on the system clock.
    void start(const char* caps) {
        GstElement* jitterbuffer = gst_element_factory_make("rtpjitterbuffer", nullptr);
        g_object_set(jitterbuffer, "latency", 100u, "do-lost", TRUE, nullptr);
        g_signal_emit_by_name(rtpbin_, "new-jitterbuffer", jitterbuffer, 0u, kSsrc);
        h_ = gst_harness_new_with_element(jitterbuffer, "sink", "src");
        gst_object_unref(jitterbuffer);
        gst_harness_use_systemclock(h_);
        gst_harness_set_upstream_latency(h_, 0);
        bus_ = gst_bus_new();
        gst_element_set_bus(h_->element, bus_);
        gst_harness_play(h_);
        gst_harness_set_src_caps_str(h_, caps);
    }

    void push(guint16 seq, guint32 timestamp) {
        GstBuffer* buffer = gst_rtp_buffer_new_allocate(200, 0, 0);
        GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
        gst_rtp_buffer_map(buffer, GST_MAP_WRITE, &rtp);
        gst_rtp_buffer_set_ssrc(&rtp, kSsrc);
        gst_rtp_buffer_set_seq(&rtp, seq);
        gst_rtp_buffer_set_timestamp(&rtp, timestamp);
        gst_rtp_buffer_set_payload_type(&rtp, pt_);
        gst_rtp_buffer_unmap(&rtp);
        GstClock* clock = gst_element_get_clock(h_->element);
        GST_BUFFER_DTS(buffer) = gst_clock_get_time(clock) - gst_element_get_base_time(h_->element); // arrival
        gst_object_unref(clock);
        ASSERT_EQ(gst_harness_push(h_, buffer), GST_FLOW_OK);
    }

    /// `frames` frames of two packets 1 ms apart, one every `frameMs`.
    void sendFrames(int frames, int frameMs) {
        for (int f = 0; f < frames; ++f) {
            push(seq_++, ts_);
            g_usleep(1000);
            push(seq_++, ts_);
            ts_ += guint32(ticksPerMs_ * frameMs);
            g_usleep(gulong(frameMs - 1) * 1000);
        }
    }

    /// Collects what left the jitterbuffer so far: packets, lost events (downstream),
    /// NACKs (upstream) and drop messages (bus).
    void collect() {
        while (GstBuffer* buffer = gst_harness_try_pull(h_)) {
            GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
            if (gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
                out_.insert(gst_rtp_buffer_get_seq(&rtp));
                gst_rtp_buffer_unmap(&rtp);
            }
            gst_buffer_unref(buffer);
        }
        while (GstEvent* event = gst_harness_try_pull_event(h_)) {
            if (gst_event_has_name(event, "GstRTPPacketLost")) ++lost_;
            gst_event_unref(event);
        }
        while (GstEvent* event = gst_harness_try_pull_upstream_event(h_)) {
            if (gst_event_has_name(event, "GstRTPRetransmissionRequest")) ++nacks_;
            gst_event_unref(event);
        }
        while (GstMessage* message = gst_bus_pop_filtered(bus_, GST_MESSAGE_ELEMENT)) {
            if (gst_structure_has_name(gst_message_get_structure(message), "drop-msg")) ++drops_;
            gst_message_unref(message);
        }
    }
    /// Collects until `done` holds or 2 s passed.
    template <typename Done>
    void collectUntil(Done done) {
        const gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
        for (collect(); !done() && g_get_monotonic_time() < end; collect()) g_usleep(10 * 1000);
    }

    manifold::test::ManualScheduler scheduler_;
    WebrtcEngine engine_{MediaConfig{}, scheduler_};
    GstElement* rtpbin_ = nullptr;
    GstHarness* h_ = nullptr;
    GstBus* bus_ = nullptr;
    std::set<int> out_; // sequence numbers pushed out
    int lost_ = 0, nacks_ = 0, drops_ = 0;
    int pt_ = 96;         // VP8, offered to publishers
    int ticksPerMs_ = 90; // RTP clock rate / 1000
    guint16 seq_ = 1000;
    guint32 ts_ = 0;
};

constexpr const char* kVp8 = "application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=96";
constexpr const char* kOpus = "application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=111";

TEST_F(JitterBufferTest, VideoInSequenceAfterALongPauseIsForwarded) {
    start(kVp8);
    sendFrames(20, 33);  // establishes the packet spacing the jitterbuffer expects
    g_usleep(300 * 1000); // the publisher pauses: three latencies without a packet
    const guint16 afterPause = seq_;
    sendFrames(5, 33);
    collectUntil([&] { return out_.size() == 50; });
    g_usleep(100 * 1000); // anything else it would send
    collect();
    EXPECT_TRUE(out_.count(afterPause)) << "the first packet after the pause was dropped";
    EXPECT_EQ(out_.size(), 50u);
    EXPECT_EQ(nacks_, 0) << "nothing was missing: no NACK";
    EXPECT_EQ(lost_, 0);
    EXPECT_EQ(drops_, 0);
}

TEST_F(JitterBufferTest, VideoGapIsNackedAndALatePacketIsPostedAsDropped) {
    start(kVp8);
    sendFrames(10, 33);
    const guint16 missing = seq_++;
    sendFrames(2, 33); // the gap is seen: NACKed at once, given up a latency later
    collectUntil([&] { return lost_ > 0; });
    EXPECT_GE(nacks_, 1);
    EXPECT_EQ(lost_, 1);
    push(missing, ts_); // too late now
    collectUntil([&] { return drops_ > 0; });
    EXPECT_EQ(drops_, 1);
    EXPECT_FALSE(out_.count(missing));
}

TEST_F(JitterBufferTest, AudioIsNeverNacked) {
    pt_ = 111;
    ticksPerMs_ = 48;
    start(kOpus);
    sendFrames(10, 20);
    seq_++; // a gap
    sendFrames(2, 20);
    collectUntil([&] { return lost_ > 0; }); // given up without asking
    EXPECT_EQ(lost_, 1);
    EXPECT_EQ(nacks_, 0);
}

} // namespace
