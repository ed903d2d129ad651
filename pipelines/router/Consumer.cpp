#include "pipelines/router/Consumer.hpp"

#include "core/Log.hpp"
#include "pipelines/router/Producer.hpp"

namespace manifold::media {

Consumer::Consumer(std::string endpointId, const std::shared_ptr<Producer>& producer, std::string logTag)
    : endpointId_(std::move(endpointId)), producerId_(producer->id()), kind_(producer->kind()),
      logTag_(std::move(logTag)), producer_(producer) {}

bool Consumer::allowed(State from, State to) {
    using S = State;
    if (to == S::Closed) return from != S::Closed;
    switch (from) {
    case S::Waiting: return to == S::Attached;
    case S::Attached: return to == S::Offering || to == S::Open;
    case S::Offering: return to == S::Offered || to == S::Attached;
    case S::Offered: return to == S::Linked || to == S::Refused;
    case S::Linked: return to == S::Open;
    case S::Open:
    case S::Refused:
    case S::Closed: return false;
    }
    return false;
}

const char* Consumer::toString(State state) {
    switch (state) {
    case State::Waiting: return "waiting";
    case State::Attached: return "attached";
    case State::Offering: return "offering";
    case State::Offered: return "offered";
    case State::Linked: return "linked";
    case State::Open: return "open";
    case State::Refused: return "refused";
    case State::Closed: return "closed";
    }
    return "?";
}

bool Consumer::moveTo(State next) {
    const State from = state();
    if (!allowed(from, next)) {
        MLOG(Media, Warning, "%sconsumer of %s: illegal move %s -> %s ignored", logTag_.c_str(), producerId_.c_str(),
             toString(from), toString(next));
        return false;
    }
    // Release: a gate opens after the sink was linked on this thread.
    state_.store(next, std::memory_order_release);
    MLOG(Media, Debug, "%sconsumer of %s: %s -> %s", logTag_.c_str(), producerId_.c_str(), toString(from),
         toString(next));
    if (next == State::Open && !paused()) requestKeyframe(true);
    return true;
}

void Consumer::setSink(std::shared_ptr<ConsumerSink> sink) {
    if (state() == State::Waiting) sink_ = std::move(sink);
}

void Consumer::setPaused(bool paused) {
    const bool was = paused_.exchange(paused);
    if (was && !paused && state() == State::Open) requestKeyframe(true);
}

void Consumer::requestKeyframe(bool soon) const {
    if (auto producer = producer_.lock()) producer->requestKeyframe(soon);
}

} // namespace manifold::media
