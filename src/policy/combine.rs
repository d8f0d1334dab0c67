//! The effective policy of one request: a user policy and a computer policy combined
//! (product §6), and the constraints it puts on the request. Pure and total: every
//! request, `policy explain` and `radius trace` go through [`combine`] and [`constrain`].

use super::hours::HoursCheck;
use super::method::{Method, Methods};
use super::reply::{AttrKey, ReplyAttr, overlay};
use super::spec::{ComputerPolicy, Lockout, Mode, SecondFactor, UserPolicy};

/// Seconds before the end of an access window below which a login is refused: a session
/// that would be cut within a minute is not worth starting (FreeRADIUS logintime's
/// `minimum_timeout`).
pub const MINIMUM_SESSION_SECS: i64 = 60;

/// The two policies of a request, combined.
#[derive(Debug, Clone, Copy)]
pub struct Effective<'a> {
    pub user: &'a UserPolicy,
    pub computer: &'a ComputerPolicy,
    /// The intersection: a method must be allowed by both.
    pub methods: Methods,
    /// The user policy's way of asking, or one-pass when only the computer policy
    /// requires a second factor (it works with every NAS).
    pub second_factor: SecondFactor,
}

#[must_use]
pub fn combine<'a>(user: &'a UserPolicy, computer: &'a ComputerPolicy) -> Effective<'a> {
    let second_factor = match (user.second_factor, computer.second_factor_required) {
        (SecondFactor::Off, true) => SecondFactor::OnePass,
        (own, _) => own,
    };
    Effective {
        user,
        computer,
        methods: user.methods.intersect(computer.methods),
        second_factor,
    }
}

impl Effective<'_> {
    /// Lockout is the user policy's alone: it counts a user's failures wherever they
    /// sign in.
    #[must_use]
    pub fn lockout(&self) -> Lockout {
        self.user.lockout
    }

    #[must_use]
    pub fn tempcode_max_ttl_secs(&self) -> u32 {
        self.user.tempcode_max_ttl_secs
    }

    /// The reply attributes as they go on the wire, in [`reply`](Self::reply)'s order,
    /// without copying their display text (the request path needs only the octets).
    pub fn for_each_reply(&self, window_secs: Option<u32>, mut f: impl FnMut(u8, &[u8])) {
        let over: Vec<AttrKey> = self.computer.reply.iter().map(ReplyAttr::key).collect();
        let own_timeout = self
            .user
            .reply
            .iter()
            .filter(|a| !over.contains(&a.key()))
            .chain(&self.computer.reply)
            .filter_map(ReplyAttr::as_session_timeout)
            .min();
        let capped = match (window_secs, own_timeout) {
            (Some(cap), Some(own)) if own > cap => Some(cap),
            (Some(cap), None) => Some(cap),
            _ => None,
        };
        for a in self
            .user
            .reply
            .iter()
            .filter(|a| !over.contains(&a.key()))
            .chain(&self.computer.reply)
        {
            if capped.is_some() && a.as_session_timeout().is_some() {
                continue;
            }
            f(a.typ, &a.value);
        }
        if let Some(cap) = capped {
            f(super::reply::SESSION_TIMEOUT, &cap.to_be_bytes());
        }
    }

    /// The reply attributes: the user policy's with the computer policy's laid on top per
    /// attribute type, and Session-Timeout no later than `window_secs` when an access
    /// window closes (a policy's own Session-Timeout stays when it is shorter).
    #[must_use]
    pub fn reply(&self, window_secs: Option<u32>) -> Vec<ReplyAttr> {
        let mut attrs = overlay(&self.user.reply, &self.computer.reply);
        if let Some(cap) = window_secs {
            let own = attrs.iter().filter_map(ReplyAttr::as_session_timeout).min();
            if own.is_none_or(|t| t > cap) {
                attrs.retain(|a| a.as_session_timeout().is_none());
                attrs.push(ReplyAttr::session_timeout(cap));
            }
        }
        attrs
    }
}

/// A policy restriction a request can fail (credential failures are not restrictions:
/// monitor mode never relaxes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    OutsideHours,
    MethodNotAllowed,
    SecondFactorMissing,
}

impl Restriction {
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Restriction::OutsideHours => "outside_hours",
            Restriction::MethodNotAllowed => "method_not_allowed",
            Restriction::SecondFactorMissing => "second_factor_missing",
        }
    }
}

/// One constraint's result, and which policies it involves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Nothing to check (no hours, no second factor required).
    NotApplicable,
    Pass,
    /// Failed; `enforced` unless every policy imposing it is in monitor mode.
    Fail {
        enforced: bool,
    },
}

/// Which policies impose a restriction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imposed {
    pub by_user: bool,
    pub by_computer: bool,
}

/// What the request presents: the method it authenticates with and whether a second
/// factor came with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented {
    pub method: Method,
    pub second_factor: bool,
}

/// Every constraint of the effective policy on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraints {
    pub hours: Check,
    pub method: Check,
    pub method_imposed: Imposed,
    pub second_factor: Check,
    pub second_factor_imposed: Imposed,
    /// Seconds until the access window closes, when it does.
    pub window_secs: Option<u32>,
}

/// What the policies make of a request whose credentials are yet to be (or were) checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// An enforced restriction failed: reject with this reason.
    Deny(Restriction),
    /// Only monitored restrictions failed: accept (if the credentials are right) and audit
    /// `would_deny` with this reason.
    WouldDeny(Restriction),
}

fn failed(imposed: Imposed, eff: &Effective<'_>) -> Check {
    let enforced = (imposed.by_user && eff.user.mode == Mode::Enforce)
        || (imposed.by_computer && eff.computer.mode == Mode::Enforce);
    Check::Fail { enforced }
}

/// The constraints on a request presenting `presented` when the access hours say
/// `hours` (`None`: the computer policy has none) at `now` (Unix seconds).
#[must_use]
pub fn constrain(
    eff: &Effective<'_>,
    presented: Presented,
    hours: Option<HoursCheck>,
    now: i64,
) -> Constraints {
    let computer_only = Imposed {
        by_user: false,
        by_computer: true,
    };
    let (hours_check, window_secs) = match hours {
        None => (Check::NotApplicable, None),
        Some(HoursCheck::Closed { .. }) => (failed(computer_only, eff), None),
        Some(HoursCheck::Open { closes_at: None }) => (Check::Pass, None),
        Some(HoursCheck::Open {
            closes_at: Some(end),
        }) => {
            let left = end.as_second().saturating_sub(now);
            if left < MINIMUM_SESSION_SECS {
                (failed(computer_only, eff), None)
            } else {
                (Check::Pass, Some(u32::try_from(left).unwrap_or(u32::MAX)))
            }
        }
    };

    let method_imposed = Imposed {
        by_user: !eff.user.methods.contains(presented.method),
        by_computer: !eff.computer.methods.contains(presented.method),
    };
    let method = if method_imposed.by_user || method_imposed.by_computer {
        failed(method_imposed, eff)
    } else {
        Check::Pass
    };

    let second_factor_imposed = Imposed {
        by_user: eff.user.second_factor != SecondFactor::Off,
        by_computer: eff.computer.second_factor_required,
    };
    let second_factor = if !second_factor_imposed.by_user && !second_factor_imposed.by_computer {
        Check::NotApplicable
    } else if presented.second_factor || presented.method.is_second_factor() {
        Check::Pass
    } else {
        failed(second_factor_imposed, eff)
    };

    Constraints {
        hours: hours_check,
        method,
        method_imposed,
        second_factor,
        second_factor_imposed,
        window_secs,
    }
}

impl Constraints {
    /// The first enforced failure denies; else the first monitored one would have.
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        let checks = [
            (self.hours, Restriction::OutsideHours),
            (self.method, Restriction::MethodNotAllowed),
            (self.second_factor, Restriction::SecondFactorMissing),
        ];
        let mut would = None;
        for (check, restriction) in checks {
            match check {
                Check::Fail { enforced: true } => return Verdict::Deny(restriction),
                Check::Fail { enforced: false } => {
                    would.get_or_insert(restriction);
                }
                Check::Pass | Check::NotApplicable => {}
            }
        }
        would.map_or(Verdict::Allow, Verdict::WouldDeny)
    }

    /// The Session-Timeout cap to apply on an accept: none when the window was only
    /// monitored closed (there is no window end to cap at).
    #[must_use]
    pub fn session_cap(&self) -> Option<u32> {
        self.window_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(s).unwrap()
    }

    const PAP: Presented = Presented {
        method: Method::Password,
        second_factor: false,
    };

    #[test]
    fn a_window_closing_within_a_minute_refuses_and_otherwise_caps() {
        let user = UserPolicy::default();
        let computer = ComputerPolicy::default();
        let eff = combine(&user, &computer);
        let open = |left: i64| {
            Some(HoursCheck::Open {
                closes_at: Some(ts(1_000 + left)),
            })
        };
        let c = constrain(&eff, PAP, open(600), 1_000);
        assert_eq!(c.verdict(), Verdict::Allow);
        assert_eq!(c.window_secs, Some(600));
        let reply = eff.reply(c.session_cap());
        assert_eq!(reply, vec![ReplyAttr::session_timeout(600)]);
        let c = constrain(&eff, PAP, open(59), 1_000);
        assert_eq!(c.verdict(), Verdict::Deny(Restriction::OutsideHours));
        let c = constrain(&eff, PAP, open(60), 1_000);
        assert_eq!(c.verdict(), Verdict::Allow);
    }

    #[test]
    fn a_shorter_session_timeout_of_the_policy_wins() {
        let mut user = UserPolicy::default();
        user.reply.push(ReplyAttr::session_timeout(300));
        let computer = ComputerPolicy::default();
        let eff = combine(&user, &computer);
        assert_eq!(eff.reply(Some(600)), vec![ReplyAttr::session_timeout(300)]);
        assert_eq!(eff.reply(Some(200)), vec![ReplyAttr::session_timeout(200)]);
    }

    #[test]
    fn monitor_relaxes_only_its_own_restrictions() {
        let user = UserPolicy::default();
        let computer = ComputerPolicy {
            mode: Mode::Monitor,
            ..ComputerPolicy::default()
        };
        let eff = combine(&user, &computer);
        let closed = Some(HoursCheck::Closed { opens_at: None });
        let c = constrain(&eff, PAP, closed, 0);
        assert_eq!(c.verdict(), Verdict::WouldDeny(Restriction::OutsideHours));
        // An enforced user policy that wants a second factor still denies.
        let strict = UserPolicy {
            second_factor: SecondFactor::OnePass,
            ..UserPolicy::default()
        };
        let eff = combine(&strict, &computer);
        let c = constrain(&eff, PAP, closed, 0);
        assert_eq!(c.verdict(), Verdict::Deny(Restriction::SecondFactorMissing));
    }

    #[test]
    fn an_empty_intersection_allows_no_method() {
        let user = UserPolicy {
            methods: "password".parse().unwrap(),
            ..UserPolicy::default()
        };
        let computer = ComputerPolicy {
            methods: "otp".parse().unwrap(),
            ..ComputerPolicy::default()
        };
        let eff = combine(&user, &computer);
        assert!(eff.methods.is_empty());
        let c = constrain(&eff, PAP, None, 0);
        assert_eq!(c.verdict(), Verdict::Deny(Restriction::MethodNotAllowed));
        assert_eq!(
            c.method_imposed,
            Imposed {
                by_user: false,
                by_computer: true
            }
        );
    }

    fn attrs() -> impl Strategy<Value = Vec<ReplyAttr>> {
        prop::collection::vec(
            (
                prop::sample::select(vec![11u8, 25, 26, 27, 64, 81]),
                any::<u8>(),
            )
                .prop_map(|(typ, v)| {
                    let value = if typ == 26 {
                        vec![0, 0, 0, 9, v % 3, 3, v]
                    } else if typ == 27 {
                        u32::from(v).to_be_bytes().to_vec()
                    } else {
                        vec![v]
                    };
                    ReplyAttr {
                        typ,
                        value,
                        text: String::new(),
                    }
                }),
            0..6,
        )
    }

    fn mode() -> impl Strategy<Value = Mode> {
        prop::sample::select(vec![Mode::Enforce, Mode::Monitor])
    }

    fn second_factor() -> impl Strategy<Value = SecondFactor> {
        prop::sample::select(vec![
            SecondFactor::Off,
            SecondFactor::OnePass,
            SecondFactor::TwoStep,
        ])
    }

    prop_compose! {
        fn user_policy()(m in any::<u8>(), sf in second_factor(), t in 0u32..20, w in 0u32..10_000,
                         d in 0u32..10_000, ttl in 0u32..100_000, reply in attrs(), mode in mode())
                         -> UserPolicy {
            UserPolicy { methods: Methods::from_bits(m), second_factor: sf,
                lockout: Lockout { threshold: t, window_secs: w, duration_secs: d },
                tempcode_max_ttl_secs: ttl, reply, mode }
        }
    }

    prop_compose! {
        fn computer_policy()(m in any::<u8>(), req in any::<bool>(), reply in attrs(), mode in mode())
                             -> ComputerPolicy {
            ComputerPolicy { methods: Methods::from_bits(m), second_factor_required: req,
                hours: None, reply, mode }
        }
    }

    proptest! {
        /// Every field of the combination, for random policy pairs.
        #[test]
        fn the_combination_follows_the_rules(u in user_policy(), c in computer_policy(),
                                             cap in prop::option::of(60u32..100_000)) {
            let eff = combine(&u, &c);
            for m in Method::ALL {
                prop_assert_eq!(eff.methods.contains(m), u.methods.contains(m) && c.methods.contains(m));
            }
            let wanted = u.second_factor != SecondFactor::Off || c.second_factor_required;
            prop_assert_eq!(eff.second_factor != SecondFactor::Off, wanted);
            if u.second_factor != SecondFactor::Off {
                prop_assert_eq!(eff.second_factor, u.second_factor);
            }
            prop_assert_eq!(eff.lockout(), u.lockout);
            prop_assert_eq!(eff.tempcode_max_ttl_secs(), u.tempcode_max_ttl_secs);
            let reply = eff.reply(cap);
            let mut wire = Vec::new();
            eff.for_each_reply(cap, |t, v| wire.push((t, v.to_vec())));
            let expected_wire: Vec<(u8, Vec<u8>)> = reply.iter().map(|a| (a.typ, a.value.clone())).collect();
            prop_assert_eq!(wire, expected_wire);
            let timeout = AttrKey { vendor: 0, typ: 27 };
            // Per type: the computer policy's values if it has any, else the user's.
            let mut keys: Vec<AttrKey> = u.reply.iter().chain(&c.reply).map(ReplyAttr::key).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let got: Vec<&ReplyAttr> = reply.iter().filter(|a| a.key() == key).collect();
                let from_c: Vec<&ReplyAttr> = c.reply.iter().filter(|a| a.key() == key).collect();
                let from_u: Vec<&ReplyAttr> = u.reply.iter().filter(|a| a.key() == key).collect();
                let expected = if from_c.is_empty() { from_u } else { from_c };
                if key == timeout && cap.is_some() {
                    let cap = cap.unwrap_or_default();
                    let own = expected.iter().filter_map(|a| a.as_session_timeout()).min();
                    let want = own.map_or(cap, |o| o.min(cap));
                    let all: Vec<u32> = got.iter().filter_map(|a| a.as_session_timeout()).collect();
                    prop_assert!(all.iter().all(|t| *t <= cap));
                    prop_assert!(all.contains(&want));
                } else {
                    prop_assert_eq!(got, expected);
                }
            }
        }

        /// Monitor mode never turns an enforced restriction into an allow, and a pair of
        /// enforced policies never produces a would-deny.
        #[test]
        fn monitor_only_relaxes(u in user_policy(), c in computer_policy(),
                                method in prop::sample::select(Method::ALL.to_vec()),
                                sf in any::<bool>(), closed in any::<bool>()) {
            let hours = closed.then_some(HoursCheck::Closed { opens_at: None });
            let presented = Presented { method, second_factor: sf };
            let eff = combine(&u, &c);
            let v = constrain(&eff, presented, hours, 0).verdict();
            let enforce_u = UserPolicy { mode: Mode::Enforce, ..u.clone() };
            let enforce_c = ComputerPolicy { mode: Mode::Enforce, ..c.clone() };
            let strict = constrain(&combine(&enforce_u, &enforce_c), presented, hours, 0).verdict();
            prop_assert!(!matches!(strict, Verdict::WouldDeny(_)));
            match strict {
                Verdict::Allow => prop_assert_eq!(v, Verdict::Allow),
                Verdict::Deny(r) => prop_assert!(v == Verdict::Deny(r) || matches!(v, Verdict::WouldDeny(_) | Verdict::Deny(_))),
                Verdict::WouldDeny(_) => {}
            }
            if u.mode == Mode::Enforce && c.mode == Mode::Enforce {
                prop_assert_eq!(v, strict);
            }
            if matches!(strict, Verdict::Deny(_)) {
                prop_assert_ne!(v, Verdict::Allow);
            }
        }
    }
}
