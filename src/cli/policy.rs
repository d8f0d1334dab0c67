//! The grammar of policies, rules, computers, `policy explain` and `radius trace`
//! (product §11b), and the commands they build.

use clap::{Args, Subcommand};

use super::UsageError;
use crate::admin::command::{
    AssignArgs, Command, ComputerArg, ComputerAssignArgs, ComputerEditArgs, ComputerListArgs,
    ComputerPolicyArgs, Empty, NameArg, PolicyExplainArgs, RuleArgs, RuleMoveArgs, RuleRunArgs,
    TraceArgs, UserPolicyArgs,
};

/// A user policy's settings; options left out keep the defaults (create) or the current
/// values (edit).
#[derive(Debug, Args, Default)]
pub struct UserPolicyFields {
    /// Allowed methods: password,otp,pin+otp,tempcode,eap-tls,eap-ttls,peap.
    #[arg(long)]
    pub methods: Option<String>,
    /// off, one-pass or two-step.
    #[arg(long)]
    pub second_factor: Option<String>,
    /// Failed logins that lock the user (0: never).
    #[arg(long)]
    pub lockout_threshold: Option<u32>,
    /// Within how long the failures count (`15m`).
    #[arg(long)]
    pub lockout_window: Option<String>,
    /// How long a lock lasts (`15m`; `0s`: until `user unlock`).
    #[arg(long)]
    pub lockout_duration: Option<String>,
    /// Longest lifetime of a temporary code (`8h`).
    #[arg(long)]
    pub tempcode_max_ttl: Option<String>,
    #[command(flatten)]
    pub common: ReplyAndMode,
}

/// What both kinds of policy set alike: reply attributes and the mode.
#[derive(Debug, Args, Default)]
pub struct ReplyAndMode {
    /// A reply attribute by dictionary name (`Filter-Id=staff`); repeat for more. Replaces
    /// the policy's attributes other than the VLAN's.
    #[arg(long = "reply", value_name = "ATTR=VALUE")]
    pub reply: Vec<String>,
    /// Remove every reply attribute but the VLAN's.
    #[arg(long, conflicts_with = "reply")]
    pub clear_reply: bool,
    /// VLAN ID (Tunnel-Type=VLAN, Tunnel-Medium-Type=IEEE-802, Tunnel-Private-Group-Id);
    /// 0 removes it.
    #[arg(long)]
    pub vlan: Option<u16>,
    /// enforce or monitor.
    #[arg(long)]
    pub mode: Option<String>,
}

/// A computer policy's settings.
#[derive(Debug, Args, Default)]
pub struct ComputerPolicyFields {
    #[arg(long)]
    pub methods: Option<String>,
    /// required or off.
    #[arg(long)]
    pub second_factor: Option<String>,
    /// Access hours in the site's time zone: "Mon-Fri 07:00-19:00,Sat 08:00-12:00";
    /// `any` removes them.
    #[arg(long)]
    pub hours: Option<String>,
    #[command(flatten)]
    pub common: ReplyAndMode,
}

/// What an assignment names: exactly one.
#[derive(Debug, Args, Default)]
pub struct Subject {
    #[arg(long)]
    pub user: Option<String>,
    /// `DOMAIN\GROUP`.
    #[arg(long)]
    pub group: Option<String>,
    /// `DOMAIN:OU_DN`.
    #[arg(long)]
    pub ou: Option<String>,
    #[arg(long)]
    pub domain: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserPolicyVerb {
    Create {
        name: String,
        #[command(flatten)]
        fields: UserPolicyFields,
    },
    Edit {
        name: String,
        #[command(flatten)]
        fields: UserPolicyFields,
    },
    List,
    Show {
        name: String,
    },
    Delete {
        name: String,
    },
    /// Assign to a user, a group, an OU subtree or a domain; lower priority wins.
    Assign {
        name: String,
        #[command(flatten)]
        subject: Subject,
        #[arg(long)]
        priority: Option<i64>,
    },
    Unassign {
        name: String,
        #[command(flatten)]
        subject: Subject,
    },
}

#[derive(Debug, Subcommand)]
pub enum ComputerPolicyVerb {
    Create {
        name: String,
        #[command(flatten)]
        fields: ComputerPolicyFields,
    },
    Edit {
        name: String,
        #[command(flatten)]
        fields: ComputerPolicyFields,
    },
    List,
    Show {
        name: String,
    },
    Delete {
        name: String,
    },
}

/// A rule's conditions.
#[derive(Debug, Args, Default)]
pub struct RuleFields {
    #[arg(long)]
    pub policy: Option<String>,
    #[arg(long)]
    pub site: Option<String>,
    /// A glob on the computer's identity (`00-10-A4-*`).
    #[arg(long)]
    pub identity: Option<String>,
    /// An address range (CIDR).
    #[arg(long)]
    pub address: Option<String>,
    /// The RADIUS client the computer is seen through.
    #[arg(long)]
    pub client: Option<String>,
    /// Place in the order (1 = first).
    #[arg(long)]
    pub position: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum ComputerRuleVerb {
    Add {
        name: String,
        #[command(flatten)]
        fields: RuleFields,
    },
    Edit {
        name: String,
        #[command(flatten)]
        fields: RuleFields,
    },
    Move {
        name: String,
        #[arg(long)]
        position: i64,
    },
    Delete {
        name: String,
    },
    List,
    /// Re-apply the rules now; pinned computers are left alone unless overridden.
    Run {
        #[arg(
            long,
            conflicts_with = "computers",
            required_unless_present = "computers"
        )]
        all: bool,
        #[arg(long = "computer", value_name = "ID")]
        computers: Vec<String>,
        /// Print the changes and write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        override_manual: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ComputerVerb {
    List {
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        policy: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        offset: Option<u32>,
    },
    Show {
        id: String,
    },
    Edit {
        id: String,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Pin a computer policy to the computer, or hand it back to the rules.
    AssignPolicy {
        id: String,
        #[arg(required_unless_present = "rules", conflicts_with = "rules")]
        policy: Option<String>,
        #[arg(long)]
        rules: bool,
    },
    Delete {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyVerb {
    /// Every step of the decision an Access-Request would get; writes nothing.
    Explain {
        #[arg(long)]
        user: String,
        #[arg(long)]
        client: String,
        #[arg(long)]
        calling_station_id: Option<String>,
        /// RFC 3339, or the site's local `YYYY-MM-DDTHH:MM`.
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RadiusVerb {
    /// The decision steps of live requests, as they happen.
    Trace {
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        user: Option<String>,
        /// How long to listen (`60s` by default, at most `10m`).
        #[arg(long)]
        duration: Option<String>,
    },
}

impl ReplyAndMode {
    fn reply(&self) -> Option<Vec<String>> {
        if self.clear_reply {
            Some(Vec::new())
        } else {
            (!self.reply.is_empty()).then(|| self.reply.clone())
        }
    }
}

fn name(n: &str) -> NameArg {
    NameArg {
        name: n.to_string(),
    }
}

fn user_policy(name: &str, f: &UserPolicyFields) -> UserPolicyArgs {
    UserPolicyArgs {
        name: name.to_string(),
        methods: f.methods.clone(),
        second_factor: f.second_factor.clone(),
        lockout_threshold: f.lockout_threshold,
        lockout_window: f.lockout_window.clone(),
        lockout_duration: f.lockout_duration.clone(),
        tempcode_max_ttl: f.tempcode_max_ttl.clone(),
        reply: f.common.reply(),
        vlan: f.common.vlan,
        mode: f.common.mode.clone(),
    }
}

fn computer_policy(name: &str, f: &ComputerPolicyFields) -> ComputerPolicyArgs {
    ComputerPolicyArgs {
        name: name.to_string(),
        methods: f.methods.clone(),
        second_factor: f.second_factor.clone(),
        hours: f.hours.clone(),
        reply: f.common.reply(),
        vlan: f.common.vlan,
        mode: f.common.mode.clone(),
    }
}

fn assign(name: &str, s: &Subject, priority: Option<i64>) -> AssignArgs {
    AssignArgs {
        name: name.to_string(),
        user: s.user.clone(),
        group: s.group.clone(),
        ou: s.ou.clone(),
        domain: s.domain.clone(),
        priority,
    }
}

fn rule(name: &str, f: &RuleFields) -> RuleArgs {
    RuleArgs {
        name: name.to_string(),
        policy: f.policy.clone(),
        site: f.site.clone(),
        identity: f.identity.clone(),
        address: f.address.clone(),
        client: f.client.clone(),
        position: f.position,
    }
}

impl UserPolicyVerb {
    pub(super) fn to_command(&self) -> Command {
        match self {
            Self::Create { name, fields } => Command::UserPolicyCreate(user_policy(name, fields)),
            Self::Edit { name, fields } => Command::UserPolicyEdit(user_policy(name, fields)),
            Self::List => Command::UserPolicyList(Empty {}),
            Self::Show { name: n } => Command::UserPolicyShow(name(n)),
            Self::Delete { name: n } => Command::UserPolicyDelete(name(n)),
            Self::Assign {
                name,
                subject,
                priority,
            } => Command::UserPolicyAssign(assign(name, subject, *priority)),
            Self::Unassign { name, subject } => {
                Command::UserPolicyUnassign(assign(name, subject, None))
            }
        }
    }
}

impl ComputerPolicyVerb {
    pub(super) fn to_command(&self) -> Command {
        match self {
            Self::Create { name, fields } => {
                Command::ComputerPolicyCreate(computer_policy(name, fields))
            }
            Self::Edit { name, fields } => {
                Command::ComputerPolicyEdit(computer_policy(name, fields))
            }
            Self::List => Command::ComputerPolicyList(Empty {}),
            Self::Show { name: n } => Command::ComputerPolicyShow(name(n)),
            Self::Delete { name: n } => Command::ComputerPolicyDelete(name(n)),
        }
    }
}

impl ComputerRuleVerb {
    pub(super) fn to_command(&self) -> Command {
        match self {
            Self::Add { name, fields } => Command::ComputerRuleAdd(rule(name, fields)),
            Self::Edit { name, fields } => Command::ComputerRuleEdit(rule(name, fields)),
            Self::Move { name, position } => Command::ComputerRuleMove(RuleMoveArgs {
                name: name.clone(),
                position: *position,
            }),
            Self::Delete { name: n } => Command::ComputerRuleDelete(name(n)),
            Self::List => Command::ComputerRuleList(Empty {}),
            Self::Run {
                all,
                computers,
                dry_run,
                override_manual,
            } => Command::ComputerRuleRun(RuleRunArgs {
                all: *all,
                computers: computers.clone(),
                dry_run: *dry_run,
                override_manual: *override_manual,
            }),
        }
    }
}

impl ComputerVerb {
    pub(super) fn to_command(&self) -> Command {
        match self {
            Self::List {
                site,
                policy,
                limit,
                offset,
            } => Command::ComputerList(ComputerListArgs {
                site: site.clone(),
                policy: policy.clone(),
                limit: *limit,
                offset: *offset,
            }),
            Self::Show { id } => Command::ComputerShow(ComputerArg { id: id.clone() }),
            Self::Edit {
                id,
                site,
                description,
            } => Command::ComputerEdit(ComputerEditArgs {
                id: id.clone(),
                site: site.clone(),
                description: description.clone(),
            }),
            Self::AssignPolicy { id, policy, rules } => {
                Command::ComputerAssignPolicy(ComputerAssignArgs {
                    id: id.clone(),
                    policy: policy.clone(),
                    rules: *rules,
                })
            }
            Self::Delete { id } => Command::ComputerDelete(ComputerArg { id: id.clone() }),
        }
    }
}

impl PolicyVerb {
    pub(super) fn to_command(&self) -> Command {
        match self {
            Self::Explain {
                user,
                client,
                calling_station_id,
                at,
            } => {
                // RFC 3339 is an instant; anything else is the site's wall time, which
                // only the daemon knows the zone of.
                let instant = at
                    .as_deref()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map(|t| t.as_second());
                Command::PolicyExplain(PolicyExplainArgs {
                    user: user.clone(),
                    client: client.clone(),
                    calling_station_id: calling_station_id.clone(),
                    at: instant,
                    at_local: at.clone().filter(|_| instant.is_none()),
                })
            }
        }
    }
}

impl RadiusVerb {
    pub(super) fn to_command(&self) -> Result<Command, UsageError> {
        match self {
            Self::Trace {
                client,
                user,
                duration,
            } => Ok(Command::RadiusTrace(TraceArgs {
                client: client.clone(),
                user: user.clone(),
                duration_secs: duration
                    .as_deref()
                    .map(|d| {
                        crate::model::duration::parse(d)
                            .map_err(|e| UsageError(format!("--duration `{d}`: {e}")))
                    })
                    .transpose()?,
            })),
        }
    }
}
