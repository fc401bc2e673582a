//! Prometheus metrics: requests by route and status, latency, pool gauges.

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use herd_core::store::Store;
use herd_provisioner::tasks::TaskBoard;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    db_connections: IntGaugeVec,
    warm_pool: IntGaugeVec,
    task_runs: IntCounterVec,
    task_last_success: GaugeVec,
}

/// The warm pool as the metrics show it.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolGauges {
    pub target: u32,
    pub available: u32,
    pub provisioning: u32,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "herd_http_requests_total",
                "HTTP requests by route pattern, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "herd_http_request_duration_seconds",
                "HTTP request latency by route pattern",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route"],
        )?;
        let db_connections = IntGaugeVec::new(
            Opts::new("herd_db_connections", "Database pool connections by state"),
            &["state"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        let warm_pool = IntGaugeVec::new(
            Opts::new(
                "herd_pool_guests",
                "Warm pool: target size, guests available, guests being cloned",
            ),
            &["kind"],
        )?;
        registry.register(Box::new(db_connections.clone()))?;
        registry.register(Box::new(warm_pool.clone()))?;
        let task_runs = IntCounterVec::new(
            Opts::new(
                "herd_task_runs_total",
                "Activations of this process's background tasks, by outcome",
            ),
            &["task", "outcome"],
        )?;
        let task_last_success = GaugeVec::new(
            Opts::new(
                "herd_task_last_success_timestamp_seconds",
                "When each background task of this process last succeeded (Unix time)",
            ),
            &["task"],
        )?;
        registry.register(Box::new(task_runs.clone()))?;
        registry.register(Box::new(task_last_success.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            db_connections,
            warm_pool,
            task_runs,
            task_last_success,
        })
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    /// Brings the task counters up to the board's (they only grow).
    fn observe_tasks(&self, tasks: &TaskBoard) {
        for (name, status) in tasks.snapshot() {
            let successes = status.runs - status.failures;
            for (outcome, total) in [("success", successes), ("failure", status.failures)] {
                let counter = self.task_runs.with_label_values(&[name, outcome]);
                counter.inc_by(total.saturating_sub(counter.get()));
            }
            if let Some(at) = status.last_succeeded_at {
                self.task_last_success
                    .with_label_values(&[name])
                    .set(at as f64 / 1000.0);
            }
        }
    }

    pub fn render(&self, store: &Store, pool: Option<PoolGauges>, tasks: &TaskBoard) -> String {
        self.observe_tasks(tasks);
        if let Some(p) = pool {
            self.warm_pool
                .with_label_values(&["target"])
                .set(p.target.into());
            self.warm_pool
                .with_label_values(&["available"])
                .set(p.available.into());
            self.warm_pool
                .with_label_values(&["provisioning"])
                .set(p.provisioning.into());
        }
        let (busy, idle) = store.pool_state();
        self.db_connections
            .with_label_values(&["busy"])
            .set(busy.into());
        self.db_connections
            .with_label_values(&["idle"])
            .set(idle.into());
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
