//! What a Connect worker can do, from the version `GET /` reports. Apache Kafka versions are
//! read as they are; Confluent Platform's (`7.6.0-ccs`, `8.0.1-ce`) map to the Apache Kafka
//! release they ship (CP 5.x = AK 2.x, CP 6.x = AK 2.6-2.8, CP 7.x = AK 3.x, CP 8.x = AK 4.x). A version that cannot be read
//! enables everything, as the newest workers have it, and status says which version it saw.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Apache Kafka (major, minor), when the version could be read.
    kafka: Option<(u32, u32)>,
}

impl Capabilities {
    /// Everything enabled (an unreadable version, or before the first `GET /`).
    pub const ALL: Capabilities = Capabilities { kafka: None };

    pub fn from_version(version: &str) -> Self {
        Self {
            kafka: kafka_release(version),
        }
    }

    fn at_least(&self, major: u32, minor: u32) -> bool {
        self.kafka.is_none_or(|v| v >= (major, minor))
    }

    /// `initial_state` in `POST /connectors` (KIP-980, Kafka 3.7).
    pub fn initial_state(&self) -> bool {
        self.at_least(3, 7)
    }

    /// `PUT /connectors/{c}/stop` and the STOPPED state (KIP-875, Kafka 3.5).
    pub fn stop(&self) -> bool {
        self.at_least(3, 5)
    }

    /// `POST .../restart?includeTasks=&onlyFailed=` (KIP-745, Kafka 3.0).
    pub fn restart_flags(&self) -> bool {
        self.at_least(3, 0)
    }

    /// `GET /connectors/{c}/offsets` (KIP-875, Kafka 3.5).
    pub fn read_offsets(&self) -> bool {
        self.at_least(3, 5)
    }

    /// `GET/PATCH/DELETE /connectors/{c}/offsets` (KIP-875, Kafka 3.6).
    pub fn offsets(&self) -> bool {
        self.at_least(3, 6)
    }

    /// `PUT /admin/loggers/{logger}?scope=cluster` (KIP-976, Kafka 3.7).
    pub fn cluster_loggers(&self) -> bool {
        self.at_least(3, 7)
    }

    /// `GET /health` (KIP-1017, Kafka 3.9).
    pub fn health(&self) -> bool {
        self.at_least(3, 9)
    }

    /// `connector.plugin.version` (KIP-891, Kafka 4.1).
    pub fn plugin_version(&self) -> bool {
        self.at_least(4, 1)
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kafka {
            Some((major, minor)) => write!(f, "Kafka Connect {major}.{minor}"),
            None => f.write_str("a Kafka Connect of unknown version"),
        }
    }
}

/// The Apache Kafka (major, minor) of a version string, Confluent's mapped.
fn kafka_release(version: &str) -> Option<(u32, u32)> {
    let (number, suffix) = version
        .trim()
        .split_once('-')
        .unwrap_or((version.trim(), ""));
    let mut parts = number.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next()??, parts.next()??);
    let confluent = suffix.starts_with("ccs") || suffix.starts_with("ce");
    match (confluent, major) {
        (true, 5) => Some((2, minor)),
        (true, 6) => Some((2, minor + 6)),
        (true, 7) => Some((3, minor)),
        (true, 8) => Some((4, minor)),
        (true, _) => None,
        (false, _) => Some((major, minor)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_map_to_what_the_worker_can_do() {
        let v431 = Capabilities::from_version("4.3.1");
        assert!(v431.initial_state() && v431.stop() && v431.offsets() && v431.plugin_version());
        let v36 = Capabilities::from_version("3.6.2");
        assert!(!v36.initial_state() && v36.stop() && v36.offsets() && !v36.plugin_version());
        let v34 = Capabilities::from_version("3.4.1");
        assert!(!v34.stop() && !v34.offsets() && v34.restart_flags());
        let cp = Capabilities::from_version("7.6.0-ccs");
        assert_eq!(cp, Capabilities::from_version("3.6.0"));
        assert_eq!(
            Capabilities::from_version("8.0.0-ce"),
            Capabilities::from_version("4.0.0")
        );
        let odd = Capabilities::from_version("trunk");
        assert_eq!(odd, Capabilities::ALL);
        assert!(odd.stop() && odd.plugin_version());
        assert_eq!(v36.to_string(), "Kafka Connect 3.6");
    }
}
