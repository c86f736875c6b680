//! Where messages go, resolved: the rule's own target before anything moves, and each target a message
//! names once per run (a target that does not exist is its failure for the rest of the run).

use super::api::{FunctionApi, QueueApi, QueueInfo};
use super::dead_letter::Destination;
use super::error::ReplayError;
use super::failure::Failure;
use crate::rules::{DlqRule, DlqTarget};
use std::collections::HashMap;
use std::sync::Mutex;

/// Where messages go, resolved.
#[derive(Clone, Debug)]
pub(super) enum Target {
    Function {
        name: String,
        qualifier: Option<String>,
    },
    Queue(QueueInfo),
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Function { name, qualifier } => function_label(name, qualifier.as_deref()),
            Target::Queue(q) => format!("queue:{}", q.name),
        }
    }
}

fn function_label(name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("function:{name}:{q}"),
        None => format!("function:{name}"),
    }
}

/// A run's targets: the rule's, resolved before the run, and those messages name, as they come.
pub(super) struct Targets {
    known: Mutex<HashMap<Destination, Result<Target, Failure>>>,
    /// The rule's target as the summary names it.
    pub rule_target_label: String,
    rule_target: DlqTarget,
}

impl Targets {
    /// The rule's own target, checked before anything moves; none when messages name their targets.
    pub async fn for_rule<Q: QueueApi, F: FunctionApi>(
        queues: &Q,
        functions: &F,
        rule: &DlqRule,
        dlq: &QueueInfo,
    ) -> Result<Targets, ReplayError> {
        let rule_target = resolve_rule_target(queues, functions, rule, dlq).await?;
        let rule_target_label = rule_target
            .as_ref()
            .map_or_else(|| "named in messages".to_owned(), Target::label);
        let mut known = HashMap::new();
        if let Some(target) = rule_target {
            known.insert(Destination::RuleTarget, Ok(target));
        }
        Ok(Targets {
            known: Mutex::new(known),
            rule_target_label,
            rule_target: rule.target.clone(),
        })
    }

    /// How the summary names where a message went.
    pub fn label(&self, destination: &Destination) -> String {
        match destination {
            Destination::RuleTarget => self.rule_target_label.clone(),
            Destination::Function { name, qualifier } => function_label(name, qualifier.as_deref()),
            Destination::Queue { name } => format!("queue:{name}"),
        }
    }

    /// Whether messages to `destination` are re-invoked into a function (their replays are counted in
    /// the ledger: a function's DLQ message comes back without our attributes).
    pub fn goes_to_function(&self, destination: &Destination) -> bool {
        match destination {
            Destination::Function { .. } => true,
            Destination::Queue { .. } => false,
            Destination::RuleTarget => matches!(self.rule_target, DlqTarget::Function { .. }),
        }
    }

    /// The target of a destination, resolved once per run; an AWS error is not remembered (the next
    /// batch asks again).
    pub async fn resolve<Q: QueueApi, F: FunctionApi>(
        &self,
        queues: &Q,
        functions: &F,
        destination: &Destination,
    ) -> Result<Target, Failure> {
        if let Some(known) = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(destination)
        {
            return known.clone();
        }
        let resolved = match destination {
            // Resolved before the run, or there is none (`NamedInMessages`): `route` never sends a
            // message there.
            Destination::RuleTarget => Err(Failure::NoTargetNamed),
            Destination::Function { name, qualifier } => {
                match functions.exists(name, qualifier.as_deref()).await {
                    Ok(true) => Ok(Target::Function {
                        name: name.clone(),
                        qualifier: qualifier.clone(),
                    }),
                    Ok(false) => Err(Failure::TargetMissing),
                    Err(e) => return Err(Failure::Aws(e.code)),
                }
            }
            Destination::Queue { name } => match queues.resolve(name).await {
                Ok(queue) => Ok(Target::Queue(queue)),
                Err(e) if e.is_not_found() => Err(Failure::TargetMissing),
                Err(e) => return Err(Failure::Aws(e.code)),
            },
        };
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(destination.clone(), resolved.clone());
        resolved
    }
}

async fn resolve_rule_target<Q: QueueApi, F: FunctionApi>(
    queues: &Q,
    functions: &F,
    rule: &DlqRule,
    dlq: &QueueInfo,
) -> Result<Option<Target>, ReplayError> {
    match &rule.target {
        DlqTarget::NamedInMessages => Ok(None),
        DlqTarget::Function { name, qualifier } => {
            if functions.exists(name, qualifier.as_deref()).await? {
                Ok(Some(Target::Function {
                    name: name.clone(),
                    qualifier: qualifier.clone(),
                }))
            } else {
                let label = qualifier
                    .as_ref()
                    .map_or_else(|| name.clone(), |q| format!("{name}:{q}"));
                Err(ReplayError::TargetMissing(format!("function {label}")))
            }
        }
        DlqTarget::Queue { name } => resolve_queue(queues, name).await.map(Some),
        DlqTarget::SourceQueue => {
            let sources = queues.source_queues(&dlq.url).await?;
            match sources.as_slice() {
                [one] => {
                    let name = one
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or(one)
                        .to_owned();
                    resolve_queue(queues, &name).await.map(Some)
                }
                [] => Err(ReplayError::TargetMissing(format!(
                    "source queue of {} (no queue names it as its DLQ; set target_queue in the rule)",
                    dlq.name
                ))),
                many => Err(ReplayError::TargetAmbiguous(format!(
                    "{} queues use {} as their DLQ ({}); set target_queue in the rule",
                    many.len(),
                    dlq.name,
                    many.join(", ")
                ))),
            }
        }
    }
}

async fn resolve_queue<Q: QueueApi>(queues: &Q, name: &str) -> Result<Target, ReplayError> {
    match queues.resolve(name).await {
        Ok(queue) => Ok(Target::Queue(queue)),
        Err(e) if e.is_not_found() => Err(ReplayError::TargetMissing(format!("queue {name}"))),
        Err(e) => Err(e.into()),
    }
}
