#include "app/App.hpp"

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "app/EventBridge.hpp"
#include "common/GLibScheduler.hpp"
#include "core/Gateway.hpp"
#include "core/Log.hpp"
#include "signalling/auth/AllowAllAuthorizer.hpp"
#include "signalling/events/EventNotifier.hpp"
#include "signalling/auth/JwtAuthorizer.hpp"
#include "signalling/auth/WebhookAuthorizer.hpp"
#include "signalling/server/HttpServer.hpp"
#include "signalling/server/Metrics.hpp"
#include "pipelines/webrtc/WebrtcEngine.hpp"

namespace manifold::app {
namespace {

constexpr gint64 kShutdownGraceUs = 3 * G_USEC_PER_SEC;

std::vector<protocol::IceServer> iceServersFor(const Config& c) {
    std::vector<protocol::IceServer> out;
    for (const auto& url : c.stunServers) out.push_back(protocol::IceServer{{url}, "", ""});
    if (!c.turnServers.empty()) out.push_back(protocol::IceServer{c.turnServers, c.turnUsername, c.turnPassword});
    return out;
}

} // namespace

App::App(Config config) : config_(std::move(config)) {}

App::~App() {
    if (sigint_) g_source_remove(sigint_);
    if (sigterm_) g_source_remove(sigterm_);
    // Teardown order, as in the header.
    server_.reset();
    if (gateway_ && events_) gateway_->removeObserver(*events_);
    gateway_.reset();
    media_.reset();
    events_.reset();
    notifier_.reset();
    authorizer_.reset();
    scheduler_.reset();
    if (loop_) g_main_loop_unref(loop_);
}

int App::run() {
    if (g_mkdir_with_parents(config_.recordingDir.c_str(), 0750) != 0) {
        std::cerr << "manifold: cannot create recording-dir '" << config_.recordingDir
                  << "': " << std::strerror(errno) << "; choose a writable directory\n";
        return 1;
    }

    loop_ = g_main_loop_new(nullptr, FALSE);
    scheduler_ = std::make_unique<GLibScheduler>();

    if (config_.auth == "jwt") {
        auth::JwtAuthorizer::Config jc;
        jc.secret = config_.jwtSecret;
        jc.leeway = std::chrono::seconds(config_.jwtLeewaySeconds);
        authorizer_ = std::make_unique<auth::JwtAuthorizer>(jc);
    } else if (config_.auth == "webhook") {
        auth::WebhookAuthorizer::Config wc;
        wc.url = config_.webhookUrl;
        wc.bearerToken = config_.webhookToken;
        wc.timeout = std::chrono::milliseconds(config_.webhookTimeoutMs);
        authorizer_ = std::make_unique<auth::WebhookAuthorizer>(wc);
    } else {
        authorizer_ = std::make_unique<auth::AllowAllAuthorizer>();
    }

    media::MediaConfig mc;
    mc.iceAddresses = config_.iceAddresses;
    mc.udpPortMin = config_.udpPortMin;
    mc.udpPortMax = config_.udpPortMax;
    mc.jitterLatencyMs = config_.jitterLatencyMs;
    mc.answerTimeout = std::chrono::seconds(config_.answerTimeoutSeconds);
    try {
        media_ = std::make_unique<media::WebrtcEngine>(mc, *scheduler_);
    } catch (const std::exception& e) {
        std::cerr << "manifold: " << e.what() << "\n";
        return 1;
    }

    Limits limits;
    limits.maxRooms = static_cast<std::size_t>(config_.maxRooms);
    limits.maxParticipantsPerRoom = static_cast<std::size_t>(config_.maxParticipants);
    limits.maxTracksPerParticipant = static_cast<std::size_t>(config_.maxTracks);
    limits.roomEmptyTimeout = std::chrono::seconds(config_.roomEmptyTimeoutSeconds);
    gateway_ = std::make_unique<Gateway>(limits, *scheduler_);

    if (!config_.eventsUrl.empty()) {
        auth::EventNotifier::Config nc;
        nc.url = config_.eventsUrl;
        nc.bearerToken = config_.eventsToken;
        notifier_ = std::make_unique<auth::EventNotifier>(nc);
        events_ = std::make_unique<EventBridge>(*notifier_);
        gateway_->addObserver(*events_);
    }

    server::HttpServerConfig sc;
    sc.address = config_.address;
    sc.port = config_.port;
    sc.tlsCertificate = config_.tlsCertificate;
    sc.tlsKey = config_.tlsKey;
    sc.webRoot = config_.webRoot;
    sc.keepaliveSeconds = config_.keepaliveSeconds;
    sc.limits = config_.httpLimits();
    sc.session.maxMessageSize = static_cast<std::size_t>(config_.maxMessageSize);
    sc.session.messageRate = config_.maxMessageRate;
    sc.session.messageBurst = config_.maxMessageRate * 2;
    sc.session.joinTimeout = std::chrono::seconds(config_.joinTimeoutSeconds);
    sc.session.idleTimeout = std::chrono::seconds(config_.idleTimeoutSeconds);
    sc.session.iceServers = iceServersFor(config_);
    sc.session.serverName = "manifold/" MANIFOLD_VERSION;
    server_ = std::make_unique<server::HttpServer>(
        sc, server::HttpServer::Deps{*gateway_, *authorizer_, *scheduler_, media_.get()});
    {
        media::WebrtcEngine* m = media_.get();
        server_->addMetricsSource([m] {
            const media::MediaCounters& c = m->counters();
            return server::metricFamily("manifold_media_sessions", "gauge", "Peer connections (one webrtcbin each).", double(m->sessions())) +
                   server::metricFamily("manifold_media_pipelines_stopping", "gauge", "Pipelines of gone participants still stopping.", double(m->retiring())) +
                   server::metricFamily("manifold_rtp_packets_received_total", "counter", "RTP packets received from publishers.", double(c.packetsIn.load())) +
                   server::metricFamily("manifold_rtp_packets_forwarded_total", "counter", "RTP packets forwarded to subscribers.", double(c.packetsForwarded.load())) +
                   server::metricFamily("manifold_keyframe_requests_total", "counter", "Keyframe requests (FIR) sent to publishers.", double(c.keyframeRequests.load())) +
                   server::metricFamily("manifold_rtp_upstream_gaps_total", "counter", "Video packets lost for good before the fan-out (each answered with a keyframe request).", double(c.upstreamGaps.load())) +
                   server::metricFamily("manifold_rtp_jitterbuffer_dropped_total", "counter", "RTP packets that reached a publisher stream's jitterbuffer and were dropped there (too late: it had given up on them).", double(c.jitterBufferDrops.load())) +
                   server::metricFamily("manifold_rtp_forward_refused_total", "counter", "RTP packet copies a subscriber's webrtcbin refused (an input being re-linked or going away).", double(c.forwardRefused.load()));
        });
    }
    if (notifier_) {
        auth::EventNotifier* n = notifier_.get();
        server_->addMetricsSource([n] {
            return server::metricFamily("manifold_events_pending", "gauge", "Event notifications waiting.", double(n->pending())) +
                   server::metricFamily("manifold_events_delivered_total", "counter", "Event notifications delivered.", double(n->delivered())) +
                   server::metricFamily("manifold_events_failed_total", "counter", "Event notifications that failed.", double(n->failed())) +
                   server::metricFamily("manifold_events_dropped_total", "counter", "Event notifications dropped (queue full).", double(n->dropped()));
        });
    }
    std::string error;
    if (!server_->start(error)) {
        std::cerr << "manifold: " << error << "\n";
        return 1;
    }

    if (config_.auth == "none")
        std::cerr << "manifold: warning: auth=none" << (config_.authDefaulted ? " (the default on loopback)" : "")
                  << ": anyone who reaches " << server_->url()
                  << " may join, publish, subscribe and use the admin API; for development only, "
                     "set --auth=jwt or --auth=webhook in production\n";
    sigint_ = g_unix_signal_add(SIGINT, &App::onSignal, this);
    sigterm_ = g_unix_signal_add(SIGTERM, &App::onSignal, this);

    std::cout << "manifold " MANIFOLD_VERSION " listening on " << server_->url() << " (auth " << authorizer_->mode()
              << ")" << std::endl;
    g_main_loop_run(loop_);
    MLOG(App, Info, "stopped");
    return 0;
}

gboolean App::onSignal(gpointer data) noexcept {
    auto* self = static_cast<App*>(data);
    if (self->shutdownDeadline_ != 0) {
        MLOG(App, Warning, "second signal: stopping now");
        g_main_loop_quit(self->loop_);
        return G_SOURCE_CONTINUE;
    }
    self->beginShutdown();
    return G_SOURCE_CONTINUE;
}

void App::beginShutdown() {
    MLOG(App, Info, "signal received: telling %zu participants and closing %zu connections",
         gateway_->participantCount(), server_->connectionCount());
    shutdownDeadline_ = g_get_monotonic_time() + kShutdownGraceUs;
    gateway_->shutdown();
    server_->closeAll("shutdown", "the gateway is shutting down; reconnect later");
    g_timeout_add(20, [](gpointer p) noexcept -> gboolean {
        static_cast<App*>(p)->pollShutdown();
        return G_SOURCE_REMOVE;
    }, this);
}

void App::pollShutdown() {
    const bool done = server_->connectionCount() == 0 && (!notifier_ || notifier_->pending() == 0);
    if (done || g_get_monotonic_time() >= shutdownDeadline_) {
        if (!done)
            MLOG(App, Warning, "shutdown grace over with %zu connections and %zu events pending",
                 server_->connectionCount(), notifier_ ? notifier_->pending() : std::size_t{0});
        g_main_loop_quit(loop_);
        return;
    }
    g_timeout_add(20, [](gpointer p) noexcept -> gboolean {
        static_cast<App*>(p)->pollShutdown();
        return G_SOURCE_REMOVE;
    }, this);
}

} // namespace manifold::app
