#include "signalling/events/EventNotifier.hpp"

#include "core/Log.hpp"

#include <glib.h>

#include <stdexcept>

namespace manifold::auth {

namespace {
constexpr unsigned kConnections = 1; // one POST at a time keeps events in order
}

EventNotifier::EventNotifier(Config config)
    : maxPending_(config.maxPending),
      poster_(HttpPoster::Config{std::move(config.url), std::move(config.bearerToken), config.timeout,
                                 kConnections}) {
    if (maxPending_ == 0) throw std::invalid_argument("events: maxPending must be at least 1");
}

EventNotifier::~EventNotifier() {
    if (const std::size_t lost = pending())
        MLOG(Auth, Info, "events: %zu events not delivered to %s at shutdown", lost, poster_.config().url.c_str());
}

void EventNotifier::notify(const protocol::Event& event) {
    if (queue_.size() >= maxPending_) {
        queue_.pop_front();
        ++dropped_;
        // The first drop of a run, then every 1000th: enough to see it, never a flood.
        if (dropped_ % 1000 == 1)
            MLOG(Auth, Warning, "events: %zu events waiting for %s; dropped the oldest (%" G_GUINT64_FORMAT
                      " dropped so far)",
                      queue_.size() + 1, poster_.config().url.c_str(), static_cast<guint64>(dropped_));
    }
    queue_.push_back(protocol::encodeEvent(event));
    sendNext();
}

void EventNotifier::sendNext() {
    if (sending_ || queue_.empty()) return;
    sending_ = true;
    std::string body = std::move(queue_.front());
    queue_.pop_front();
    // The poster never calls back after it (a member of this) is destroyed.
    poster_.post(std::move(body), [this](HttpPoster::Response response) { onSent(response); });
}

void EventNotifier::onSent(const HttpPoster::Response& response) {
    sending_ = false;
    if (response.ok()) {
        ++delivered_;
        if (failing_) {
            MLOG(Auth, Info, "events: %s answers again (%" G_GUINT64_FORMAT " events failed so far)",
                   poster_.config().url.c_str(), static_cast<guint64>(failed_));
            failing_ = false;
        }
    } else {
        ++failed_;
        if (!failing_) {
            const std::string why =
                response.error.empty() ? "HTTP " + std::to_string(response.status) : response.error;
            MLOG(Auth, Warning, "events: POST to %s failed (%s); the event is lost, later failures are only counted",
                      poster_.config().url.c_str(), why.c_str());
            failing_ = true;
        }
    }
    sendNext();
}

} // namespace manifold::auth
