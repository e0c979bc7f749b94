//! The figures of [`crate::metrics`] leaving the process: the task of each run that
//! samples the queue every two seconds and tells the control socket's subscribers when
//! anything changed (for the Monitor), and the Prometheus endpoint (`GET /metrics`,
//! OpenMetrics text). Apart from `metrics.rs`, so that the counters the protocols bump
//! depend on nothing of a run.

use std::sync::Arc;
use std::time::Duration;

use mailroom_shared::ipc::Event;

use crate::context::ServiceContext;
use crate::metrics::Live;

/// How often the queue is looked at.
const EVERY: Duration = Duration::from_secs(2);

/// Serves the figures to Prometheus on `listener` (`GET /metrics`) until the run
/// drains. Anything else gets `404`.
pub(crate) async fn serve(listener: Arc<tokio::net::TcpListener>, ctx: ServiceContext) {
    crate::listener::accept_loop("metrics", listener, ctx, |stream, _peer, ctx| async move {
        use http_body_util::Full;
        use hyper::body::Bytes;
        let metrics = Arc::clone(&ctx.metrics);
        let (store, throttle) = (ctx.store.clone(), Arc::clone(&ctx.throttle));
        let answer = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let metrics = Arc::clone(&metrics);
            let live = Live { commit_seconds: store.commit_seconds(), auth_failures: throttle.failed_total() };
            async move {
                let found = request.method() == hyper::Method::GET && request.uri().path() == "/metrics";
                if found {
                    hyper::Response::builder()
                        .header("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
                        .body(Full::new(Bytes::from(metrics.openmetrics(&live))))
                } else {
                    hyper::Response::builder().status(404).body(Full::new(Bytes::from_static(b"Not found\n")))
                }
            }
        });
        let io = hyper_util::rt::TokioIo::new(stream);
        let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, answer);
        tokio::select! {
            _ = connection => {}
            () = ctx.shutdown.draining() => {}
        }
    })
    .await;
}

/// Looks at the figures every two seconds for the run, until it drains: reads the
/// queue's length, marks each minute's start, and tells the control socket's
/// subscribers ([`Event::MonitorChanged`]) when anything changed.
pub async fn run(ctx: ServiceContext) {
    let metrics = Arc::clone(&ctx.metrics);
    let mut last = None;
    loop {
        if let (Ok(n), Ok(oldest)) = (ctx.store.queue_waiting().await, ctx.store.queue_oldest().await) {
            metrics.set_queue(n, oldest.unwrap_or(0));
        }
        let seen = metrics.look(crate::store::now_secs());
        if last != Some(seen) {
            last = Some(seen);
            let _ = ctx.events.send(Event::MonitorChanged);
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = ctx.shutdown.draining() => return,
        }
    }
}
