//! Prometheus metrics, served on their own listener (off by default) so they are never exposed
//! on the public port by accident. A few counters and a latency histogram, kept in atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const BUCKETS_MS: [f64; 10] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0,
];

#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS_MS.len()],
    sum_us: AtomicU64,
    count: AtomicU64,
}

pub type SharedMetrics = Arc<Metrics>;

impl Metrics {
    pub fn observe(&self, status: u16, elapsed: Duration) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        let ms = elapsed.as_secs_f64() * 1000.0;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if ms <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_us
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::from("# HELP junction_http_requests_total HTTP requests by status class.\n# TYPE junction_http_requests_total counter\n");
        for (i, c) in self.by_class.iter().enumerate() {
            out += &format!(
                "junction_http_requests_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                c.load(Ordering::Relaxed)
            );
        }
        out += "# HELP junction_http_request_duration_seconds Request latency.\n# TYPE junction_http_request_duration_seconds histogram\n";
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            out += &format!(
                "junction_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                b / 1000.0,
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        out += &format!("junction_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n");
        out += &format!(
            "junction_http_request_duration_seconds_sum {}\n",
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        out += &format!("junction_http_request_duration_seconds_count {count}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts() {
        let m = Metrics::default();
        m.observe(200, Duration::from_millis(3));
        m.observe(404, Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains("junction_http_requests_total{class=\"2xx\"} 1"));
        assert!(text.contains("junction_http_requests_total{class=\"4xx\"} 1"));
        assert!(text.contains("junction_http_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("junction_http_request_duration_seconds_count 2"));
    }
}
