#include "pipelines/webrtc/Negotiator.hpp"

#include "core/Log.hpp"
#include "pipelines/webrtc/AnswerCheck.hpp"
#include "pipelines/webrtc/Posting.hpp"

namespace manifold::media {

namespace {

using Token = WeakToken<Negotiator>;

std::string promiseError(GstPromise* promise) {
    if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return "no reply";
    const GstStructure* reply = gst_promise_get_reply(promise);
    if (!reply || !gst_structure_has_field(reply, "error")) return "";
    GError* error = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    std::string out = error ? error->message : "unknown error";
    g_clear_error(&error);
    return out;
}

using SdpPtr = std::unique_ptr<GstSDPMessage, decltype(&gst_sdp_message_free)>;

/// Parses SDP text; null for text that is empty or not SDP at all. (gst_sdp_message_
/// parse_buffer asserts on an empty buffer: a CRITICAL from remote input.)
SdpPtr parseSdp(const std::string& text) {
    SdpPtr none(nullptr, &gst_sdp_message_free);
    if (text.empty()) return none;
    GstSDPMessage* message = nullptr;
    if (gst_sdp_message_new_from_text(text.c_str(), &message) != GST_SDP_OK || !message) {
        if (message) gst_sdp_message_free(message);
        return none;
    }
    return SdpPtr(message, &gst_sdp_message_free);
}

/// A promise whose reply is posted to the Negotiator as `fn(self, error, reply)`.
template <typename Fn>
GstPromise* promiseFor(const std::shared_ptr<Negotiator*>& token, Fn fn) {
    struct Ctx {
        Token token;
        Fn fn;
    };
    return gst_promise_new_with_change_func(
        [](GstPromise* p, gpointer data) noexcept {
            auto* ctx = static_cast<Ctx*>(data);
            const std::string error = promiseError(p);
            GstWebRTCSessionDescription* offer = nullptr;
            if (error.empty() && gst_promise_get_reply(p) && gst_structure_has_field(gst_promise_get_reply(p), "offer"))
                gst_structure_get(gst_promise_get_reply(p), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer,
                                  nullptr);
            gst_promise_unref(p);
            // Owned by the posted work, so it is freed even if the Negotiator is gone by then.
            std::shared_ptr<GstWebRTCSessionDescription> owned(offer, [](GstWebRTCSessionDescription* d) noexcept {
                if (d) gst_webrtc_session_description_free(d);
            });
            post(ctx->token, [fn = ctx->fn, error, owned](Negotiator& self) { fn(self, error, owned.get()); });
        },
        new Ctx{token, std::move(fn)}, [](gpointer d) noexcept { delete static_cast<Ctx*>(d); });
}

} // namespace

Negotiator::Negotiator(GstElement* webrtc, Scheduler& scheduler, std::chrono::milliseconds answerTimeout,
                       std::string tag, Listener& listener)
    : webrtc_(webrtc), scheduler_(scheduler), answerTimeout_(answerTimeout), tag_(std::move(tag)), listener_(listener),
      token_(std::make_shared<Negotiator*>(this)) {}

Negotiator::~Negotiator() { stop(); }

void Negotiator::stop() {
    token_.reset();
    offerTimer_.reset();
    answerTimer_.reset();
}

void Negotiator::fail(const std::string& reason) {
    if (failed_) return;
    failed_ = true;
    listener_.negotiationFailed(reason); // may destroy this: nothing after this line
}

void Negotiator::renegotiate() {
    if (failed_) return;
    if (offerInFlight_) {
        renegotiate_ = true;
        return;
    }
    // Every change made in this turn of the control loop (a join subscribing to every
    // track, a publish) goes into one offer: each extra offer costs the client a round
    // trip and, in webrtcbin 1.22, new RTX SSRCs on every m-line.
    if (offerTimer_) return;
    scheduleOffer(std::chrono::milliseconds(0));
}

void Negotiator::scheduleOffer(std::chrono::milliseconds delay) {
    Token token = token_;
    offerTimer_ = scheduler_.after(delay, [token] {
        if (auto alive = token.lock()) {
            (*alive)->offerTimer_.reset();
            (*alive)->createOffer();
        }
    });
}

void Negotiator::createOffer() {
    if (failed_ || offerInFlight_) return;
    if (!listener_.prepareOffer()) {
        if (++prepareRetries_ > kPrepareRetries) {
            fail("a reused send slot did not take its new stream's caps");
            return;
        }
        MLOG(Media, Info, "%sa reused send slot refused its new caps (flushing); offer in 20 ms", tag_.c_str());
        scheduleOffer(std::chrono::milliseconds(20));
        return;
    }
    prepareRetries_ = 0;
    listener_.offerStarted();
    offerInFlight_ = true;
    renegotiate_ = false;
    GstPromise* promise = promiseFor(token_, [](Negotiator& self, const std::string& error,
                                                GstWebRTCSessionDescription* offer) { self.offerCreated(offer, error); });
    lastOperation_.reset(gst_promise_ref(promise));
    g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
}

void Negotiator::offerCreated(GstWebRTCSessionDescription* offer, const std::string& error) {
    if (!offer && error.find("failed against codec preferences") != std::string::npos &&
        staleCapsRetries_ < kStaleCapsRetries) {
        // Workaround 6: a sink pad held an earlier stream's caps. Not expected since
        // reused slots take new caps only between offers; kept as a safety net: every
        // slot's caps go in again and the offer is retried instead of dropping the
        // participant (webrtcbin 1.22 leaks ~24 bytes per failure).
        ++staleCapsRetries_;
        MLOG(Media, Info, "%s%s; caps sent again, offer retried in 20 ms", tag_.c_str(), error.c_str());
        offerInFlight_ = false;
        listener_.offerAborted(true);
        scheduleOffer(std::chrono::milliseconds(20));
        return;
    }
    if (!offer) {
        fail("could not create an offer: " + error);
        return;
    }
    staleCapsRetries_ = 0;
    rtxSsrcs_.keep(offer->sdp);
    gchar* text = gst_sdp_message_as_text(offer->sdp);
    std::string sdp = text ? text : "";
    g_free(text);
    GstPromise* promise = promiseFor(token_, [sdp](Negotiator& self, const std::string& error,
                                                   GstWebRTCSessionDescription*) { self.localDescriptionSet(sdp, error); });
    lastOperation_.reset(gst_promise_ref(promise));
    g_signal_emit_by_name(webrtc_, "set-local-description", offer, promise);
}

void Negotiator::localDescriptionSet(const std::string& sdp, const std::string& error) {
    if (!error.empty()) {
        fail("could not apply our own offer: " + error);
        return;
    }
    rtxSsrcs_.apply(webrtc_, tag_); // webrtcbin just set its own, new ones
    ++negotiationId_;
    lastOffer_ = sdp;
    if (SdpPtr parsed = parseSdp(sdp)) offerMlines_ = gst_sdp_message_medias_len(parsed.get());
    Token token = token_;
    answerTimer_ = scheduler_.after(answerTimeout_, [token] {
        if (auto alive = token.lock()) (*alive)->fail("the client did not answer the offer in time");
    });
    MLOG(Media, Log, "%soffer %llu:\n%s", tag_.c_str(), static_cast<unsigned long long>(negotiationId_), sdp.c_str());
    listener_.offerReady(negotiationId_, sdp);
}

Status Negotiator::applyAnswer(std::uint64_t negotiationId, const std::string& sdp) {
    if (!offerInFlight_ || negotiationId != negotiationId_ || lastOffer_.empty() || !pendingAnswer_.empty())
        return Failure(Refusal::BadAnswer, "no offer is waiting for this answer");
    MLOG(Media, Log, "%sanswer %llu:\n%s", tag_.c_str(), static_cast<unsigned long long>(negotiationId), sdp.c_str());
    SdpPtr answer = parseSdp(sdp);
    if (!answer) return Failure(Refusal::BadAnswer, "the answer is not SDP");
    SdpPtr offer = parseSdp(lastOffer_);
    if (!offer) return Failure(Refusal::BadAnswer, "our own offer could not be read");
    if (std::string problem = checkAnswer(offer.get(), answer.get()); !problem.empty())
        return Failure(Refusal::BadAnswer, problem);
    answerTimer_.reset();
    pendingAnswer_ = sdp;
    GstWebRTCSessionDescription* description =
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, answer.release());
    GstPromise* promise = promiseFor(token_, [](Negotiator& self, const std::string& error,
                                                GstWebRTCSessionDescription*) { self.remoteDescriptionSet(error); });
    lastOperation_.reset(gst_promise_ref(promise));
    g_signal_emit_by_name(webrtc_, "set-remote-description", description, promise);
    gst_webrtc_session_description_free(description);
    return std::nullopt;
}

void Negotiator::remoteDescriptionSet(const std::string& error) {
    if (!error.empty()) {
        fail("the answer was rejected: " + error);
        return;
    }
    MLOG(Media, Debug, "%sanswer %llu applied", tag_.c_str(), static_cast<unsigned long long>(negotiationId_));
    offerInFlight_ = false;
    rtxSsrcs_.apply(webrtc_, tag_); // before any consumer opens: rtprtxsend reads the map at a stream's first packet
    SdpPtr answer = parseSdp(pendingAnswer_);
    pendingAnswer_.clear();
    listener_.answerApplied(negotiationId_, answer.get());
    if (renegotiate_) {
        renegotiate_ = false;
        renegotiate();
    }
}

Status Negotiator::addRemoteCandidate(int mlineIndex, const std::string& candidate) {
    if (candidate.empty()) return std::nullopt; // end of candidates: nothing to do for webrtcbin 1.22
    if (std::string problem = checkCandidate(mlineIndex, candidate, offerMlines_); !problem.empty())
        return Failure(Refusal::BadCandidate, problem);
    g_signal_emit_by_name(webrtc_, "add-ice-candidate", guint(mlineIndex), candidate.c_str());
    return std::nullopt;
}

} // namespace manifold::media
