//! Congestion control for the video we send: a loss- and delay-based loop
//! on the encoder's bitrate, fed each second from webrtcbin's statistics of
//! what the other side received (RTCP receiver reports). In the spirit of
//! Google Congestion Control's loss-based part: back off in proportion to
//! heavy loss or a growing round-trip time, creep up while the path is clean.

/// The encoder bitrate controller.
#[derive(Debug, Clone)]
pub struct Controller {
    min_kbps: u32,
    max_kbps: u32,
    kbps: u32,
    base_rtt_ms: Option<f64>,
}

impl Controller {
    /// Start at `start` kbit/s, never below `min` nor above `max`.
    pub fn new(start: u32, min: u32, max: u32) -> Controller {
        Controller {
            min_kbps: min,
            max_kbps: max.max(min),
            kbps: start.clamp(min, max.max(min)),
            base_rtt_ms: None,
        }
    }

    pub fn kbps(&self) -> u32 {
        self.kbps
    }

    /// One report: the fraction of our packets the other side lost (0..1)
    /// and the round-trip time, if known. Returns the new target.
    pub fn update(&mut self, fraction_lost: f64, rtt_ms: Option<f64>) -> u32 {
        let rtt_grew = match (rtt_ms, self.base_rtt_ms) {
            (Some(r), Some(base)) => r > base * 2.0 + 30.0,
            _ => false,
        };
        if let Some(r) = rtt_ms {
            // The smallest RTT seen, slowly forgotten so a route change is learnt.
            self.base_rtt_ms = Some(self.base_rtt_ms.map_or(r, |b| (b * 1.01).min(r)));
        }
        let k = self.kbps as f64;
        let next = if fraction_lost > 0.10 {
            k * (1.0 - 0.5 * fraction_lost.min(0.9))
        } else if rtt_grew {
            k * 0.85
        } else if fraction_lost < 0.02 {
            k * 1.08
        } else {
            k
        };
        self.kbps = (next.round() as u32).clamp(self.min_kbps, self.max_kbps);
        self.kbps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_loss_halves_the_rate_and_a_clean_path_recovers_it() {
        let mut c = Controller::new(2000, 150, 2500);
        assert_eq!(c.update(0.0, Some(2.0)), 2160);
        let after_loss = c.update(0.4, Some(2.0));
        assert!(after_loss < 1800, "{after_loss}");
        let mut k = after_loss;
        for _ in 0..30 {
            k = c.update(0.0, Some(2.0));
        }
        assert_eq!(k, 2500, "creeps back up to the ceiling");
    }

    #[test]
    fn moderate_loss_holds_and_the_floor_holds() {
        let mut c = Controller::new(1000, 150, 2500);
        assert_eq!(c.update(0.05, None), 1000);
        for _ in 0..50 {
            c.update(0.9, None);
        }
        assert_eq!(c.kbps(), 150);
    }

    #[test]
    fn a_growing_round_trip_backs_off_before_loss_appears() {
        let mut c = Controller::new(2000, 150, 2500);
        c.update(0.0, Some(10.0));
        let k = c.kbps();
        assert!(c.update(0.0, Some(200.0)) < k);
    }
}
