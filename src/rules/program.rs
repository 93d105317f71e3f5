//! Patterns compiled into programs for the engine's backtracking machine.
//!
//! A rule's pattern is a tree ([`Node`]); walking that tree through closures cost more than the
//! tests it made. Like a regex engine's backtracker, the engine instead runs a flat list of
//! instructions and keeps its choice points on a stack: an alternative becomes [`Inst::Split`]s,
//! a repetition copies of its pattern and a loop, a capture a pair of instructions around its
//! pattern. The program visits the paths in the order the tree did (options in order,
//! repetitions greedy, annotations in the order they were added), so the longest match and its
//! captures are the same.

use super::{class_bit, first_bits, label_bit, CompiledFilter, FirstSet, Node};
use crate::label::Label;

/// The most copies of a repeated pattern a program holds; past that a repetition is counted.
const MAX_UNROLLED: u32 = 8;

/// The most instructions the copies of one repetition may take.
const MAX_UNROLLED_SIZE: usize = 64;

/// The token bits one of which a token needs for `node` to match there (see [`first_bits`]).
fn needs(node: &Node) -> u64 {
    first_bits(std::slice::from_ref(node))
}

/// Whether `inner{min,max}` is unrolled: into at most [`MAX_UNROLLED`] copies, of no more than
/// [`MAX_UNROLLED_SIZE`] instructions in all (so nested repetitions do not multiply), and only
/// if `inner` cannot match nothing.
fn unrolls(inner: &Node, min: u32, max: u32) -> bool {
    let copies = copies(min, max);
    copies <= MAX_UNROLLED
        && !can_match_nothing(inner)
        && (copies as usize).saturating_mul(size(inner)) <= MAX_UNROLLED_SIZE
}

/// How many copies of its pattern an unrolled `{min,max}` holds: an unbounded one loops over
/// its last.
fn copies(min: u32, max: u32) -> u32 {
    if max == u32::MAX {
        min.max(1)
    } else {
        max
    }
}

/// About how many instructions `node` compiles to.
fn size(node: &Node) -> usize {
    match node {
        Node::Label(..) | Node::Literal(_) | Node::Class(_) | Node::LineStart | Node::LineEnd => 1,
        Node::Seq(items, _) | Node::Alt(items, _) => items
            .iter()
            .fold(1, |total, item| total.saturating_add(size(item) + 1)),
        Node::Capture(_, inner) | Node::Not(inner, _) => size(inner).saturating_add(2),
        Node::Repeat { inner, min, max } => {
            let copies = if unrolls(inner, *min, *max) {
                copies(*min, *max)
            } else {
                1
            };
            (copies as usize)
                .saturating_mul(size(inner))
                .saturating_add(3)
        }
    }
}

/// Whether `node` can match without moving past a token: a repetition of it must then check
/// that each iteration did, which only a counted repetition does.
fn can_match_nothing(node: &Node) -> bool {
    FirstSet::of(std::slice::from_ref(node)).anything
}

/// The labels and their filters, if `node` is a label step or alternatives of label steps.
fn label_options(node: &Node) -> Option<Vec<(Label, Box<[CompiledFilter]>)>> {
    match node {
        Node::Label(label, filters) => Some(vec![(*label, filters.clone().into())]),
        Node::Alt(options, _) if !options.is_empty() => options
            .iter()
            .map(label_options)
            .collect::<Option<Vec<_>>>()
            .map(|options| options.concat()),
        _ => None,
    }
}

/// A register: two numbers that a counted repetition keeps while its pattern is walked.
pub type Reg = u16;

/// One instruction. Positions in the program are indices into [`Program::insts`]. Several
/// carry the token bits (see `first_bits`) one of which the pattern they lead into needs: a
/// branch that cannot match at the token is not taken.
#[derive(Debug, Clone)]
pub enum Inst {
    /// An annotation of the label that starts at the token, ends on the line and passes the
    /// filters; each such annotation is a branch. `bit` is the label's [`label_bit`], kept
    /// here so the machine's step tests it without working it out.
    Label {
        label: Label,
        bit: u64,
        filters: Box<[CompiledFilter]>,
    },
    /// These words, by their ids in [`RuleSet::words`](super::RuleSet::words).
    Literal(Box<[u32]>),
    /// A token with this bit (a class's, see [`class_bit`]).
    Token(u64),
    LineStart,
    LineEnd,
    /// Fails unless the token has one of these bits.
    Guard(u64),
    /// Takes the branch that follows if the token has one of the bits it `needs`; when that
    /// branch is done (or not taken), goes on at `other`. It leads into an option of an
    /// alternative, or into an optional iteration of a repetition (`other` then leaves it).
    Split {
        needs: u64,
        other: u32,
    },
    Jump(u32),
    /// Ends an iteration: iterates again (back to `body`) if the token has one of the bits the
    /// pattern `needs`; going on with the next instruction is the other branch.
    Again {
        needs: u64,
        body: u32,
    },
    /// Enters a counted repetition: its counter (the register's first number) starts at zero.
    /// A repetition is counted when its pattern can match nothing or unrolling it would make the
    /// program long; the others are unrolled into copies, [`Inst::Split`]s and [`Inst::Again`].
    CountStart(Reg),
    /// Tries one more iteration first, while there are fewer than `max` and the token has one of
    /// the bits the repeated pattern `needs`; leaves for `exit` once there are at least `min`.
    /// The register's second number keeps where the iteration started.
    CountLoop {
        counter: Reg,
        min: u32,
        max: u32,
        needs: u64,
        exit: u32,
    },
    /// Ends an iteration, which must have moved past a token, and goes back to `head`.
    CountNext {
        counter: Reg,
        head: u32,
    },
    /// Opens capture number `capture` (numbered in the program, whatever its name), if the token
    /// has one of the bits its pattern `needs`.
    CaptureOpen {
        capture: u16,
        needs: u64,
    },
    /// Closes capture number `capture` as `name`.
    CaptureClose {
        name: u16,
        capture: u16,
    },
    /// Fails if the pattern that follows (up to its [`Inst::Match`]) matches here, else goes on at
    /// `end`; the pattern is not walked at a token without one of the bits it `needs`.
    Not {
        needs: u64,
        end: u32,
    },
    /// A negation of labels (`!person`, `!(title | body)`): fails if an annotation of one of
    /// the labels, passing that label's filters, starts at the token and ends on the line, else
    /// goes on. One look at the token's annotations, where [`Inst::Not`] walked each option.
    NotLabels {
        needs: u64,
        options: Box<[(Label, Box<[CompiledFilter]>)]>,
    },
    /// A match ends here.
    Match,
}

/// A compiled pattern.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub insts: Vec<Inst>,
    /// How many registers its counted repetitions use.
    pub registers: usize,
    /// How many captures it has.
    captures: usize,
}

impl Program {
    /// Compiles the pattern `root`; an error if it needs more captures or registers than an
    /// instruction can number.
    pub fn compile(root: &Node) -> Result<Program, String> {
        let mut program = Program::default();
        program.node(root);
        program.push(Inst::Match);
        // Numbers past the limit were cut short while compiling: the program is not used.
        let limit = usize::from(u16::MAX) + 1;
        if program.captures > limit || program.registers > limit {
            return Err("the pattern has more than 65536 captures or repetitions".to_string());
        }
        Ok(program)
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::Label(label, filters) => {
                self.push(Inst::Label {
                    label: *label,
                    bit: label_bit(*label),
                    filters: filters.clone().into(),
                });
            }
            Node::Literal(words) => {
                self.push(Inst::Literal(words.clone().into()));
            }
            Node::Class(class) => {
                self.push(Inst::Token(class_bit(*class)));
            }
            Node::LineStart => {
                self.push(Inst::LineStart);
            }
            Node::LineEnd => {
                self.push(Inst::LineEnd);
            }
            Node::Seq(items, _) => items.iter().for_each(|item| self.guarded(item)),
            Node::Alt(options, _) => {
                let mut jumps = Vec::new();
                let Some((last, others)) = options.split_last() else {
                    // No option: nothing matches.
                    self.push(Inst::Guard(0));
                    return;
                };
                for option in others {
                    let needs = needs(option);
                    let split = self.push(Inst::Split { needs, other: 0 });
                    self.node(option);
                    jumps.push(self.push(Inst::Jump(0)));
                    self.lands_here(split);
                }
                self.guarded(last);
                for jump in jumps {
                    self.lands_here(jump);
                }
            }
            Node::Repeat { inner, min, max } => self.repeat(inner, *min, *max),
            Node::Capture(name, inner) => {
                let capture = self.captures as u16;
                self.captures += 1;
                self.push(Inst::CaptureOpen {
                    capture,
                    needs: needs(inner),
                });
                self.node(inner);
                self.push(Inst::CaptureClose {
                    name: *name,
                    capture,
                });
            }
            Node::Not(inner, needs) => {
                if let Some(options) = label_options(inner) {
                    self.push(Inst::NotLabels {
                        needs: *needs,
                        options: options.into(),
                    });
                    return;
                }
                let not = self.push(Inst::Not {
                    needs: *needs,
                    end: 0,
                });
                self.node(inner);
                self.push(Inst::Match);
                self.lands_here(not);
            }
        }
    }

    /// Compiles `inner{min,max}`: unrolled into `min` copies of `inner` and then a loop or
    /// `max - min` optional copies, unless that would be long or `inner` can match nothing.
    fn repeat(&mut self, inner: &Node, min: u32, max: u32) {
        let needs = needs(inner);
        let unbounded = max == u32::MAX;
        if !unrolls(inner, min, max) {
            return self.counted(inner, min, max, needs);
        }
        if unbounded {
            // The loop's body is the last required copy, or an optional first one.
            let split = (min == 0).then(|| self.push(Inst::Split { needs, other: 0 }));
            for _ in 1..min {
                self.guarded(inner);
            }
            let body = self.here();
            self.node(inner);
            self.push(Inst::Again { needs, body });
            if let Some(at) = split {
                self.lands_here(at);
            }
            return;
        }
        for _ in 0..min {
            self.guarded(inner);
        }
        let splits: Vec<usize> = (min..max)
            .map(|_| {
                let at = self.push(Inst::Split { needs, other: 0 });
                self.node(inner);
                at
            })
            .collect();
        for at in splits {
            self.lands_here(at);
        }
    }

    /// Compiles `inner{min,max}` as a loop that counts its iterations in a register.
    fn counted(&mut self, inner: &Node, min: u32, max: u32, needs: u64) {
        let counter = self.register();
        self.push(Inst::CountStart(counter));
        let head = self.push(Inst::CountLoop {
            counter,
            min,
            max,
            needs,
            exit: 0,
        });
        self.node(inner);
        self.push(Inst::CountNext {
            counter,
            head: head as u32,
        });
        self.lands_here(head);
    }

    /// Points the instruction at `at`, pushed before its target was known, at the next
    /// instruction to be pushed.
    fn lands_here(&mut self, at: usize) {
        let here = self.here();
        match &mut self.insts[at] {
            Inst::Split { other: target, .. }
            | Inst::Jump(target)
            | Inst::Not { end: target, .. }
            | Inst::CountLoop { exit: target, .. } => *target = here,
            other => unreachable!("{other:?} has no target to set"),
        }
    }

    /// Compiles a step of a sequence or the last option of an alternative, behind a
    /// [`Inst::Guard`] when it is a sequence or an alternative: other steps test the token
    /// themselves.
    fn guarded(&mut self, node: &Node) {
        if let Node::Seq(_, needs) | Node::Alt(_, needs) = node {
            if *needs != u64::MAX {
                self.push(Inst::Guard(*needs));
            }
        }
        self.node(node);
    }

    fn push(&mut self, inst: Inst) -> usize {
        self.insts.push(inst);
        self.insts.len() - 1
    }

    fn here(&self) -> u32 {
        self.insts.len() as u32
    }

    fn register(&mut self) -> Reg {
        self.registers += 1;
        (self.registers - 1) as Reg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse::Class;

    /// The program's instructions, each as a short word with its targets.
    fn shape(node: &Node) -> Vec<String> {
        Program::compile(node)
            .unwrap()
            .insts
            .iter()
            .map(|inst| match inst {
                Inst::Split { other, .. } => format!("split {other}"),
                Inst::Jump(to) => format!("jump {to}"),
                Inst::Again { body, .. } => format!("again {body}"),
                Inst::CountLoop { exit, .. } => format!("count {exit}"),
                Inst::CountNext { head, .. } => format!("next {head}"),
                Inst::CaptureOpen { capture, .. } => format!("open {capture}"),
                Inst::CaptureClose { capture, .. } => format!("close {capture}"),
                Inst::NotLabels { options, .. } => format!("not {} labels", options.len()),
                Inst::Token(_) => "token".into(),
                Inst::Guard(_) => "guard".into(),
                Inst::LineStart => "^".into(),
                Inst::Match => "match".into(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn name() -> Node {
        Node::Class(Class::Name)
    }

    fn repeat(inner: Node, min: u32, max: u32) -> Node {
        Node::Repeat {
            inner: Box::new(inner),
            min,
            max,
        }
    }

    #[test]
    fn alternatives_split_and_join_after_the_last_option() {
        let alt = Node::Alt(
            vec![Node::Class(Class::Num), Node::Class(Class::Punct), name()],
            0,
        );
        assert_eq!(
            shape(&alt),
            ["split 3", "token", "jump 7", "split 6", "token", "jump 7", "token", "match"]
        );
    }

    #[test]
    fn repetitions_are_unrolled_into_copies_and_a_loop() {
        let captured = Node::Capture(0, Box::new(name()));
        assert_eq!(
            shape(&repeat(captured, 2, u32::MAX)),
            ["open 0", "token", "close 0", "open 1", "token", "close 1", "again 3", "match"]
        );
        assert_eq!(
            shape(&repeat(name(), 0, u32::MAX)),
            ["split 3", "token", "again 1", "match"]
        );
        assert_eq!(
            shape(&repeat(name(), 1, 3)),
            ["token", "split 5", "token", "split 5", "token", "match"]
        );
    }

    #[test]
    fn negations_of_labels_are_one_instruction() {
        let label = |id, filters| Node::Label(Label(id), filters);
        let labels = Node::Alt(
            vec![
                label(0, vec![]),
                label(1, vec![CompiledFilter::MinTokens(2)]),
            ],
            0,
        );
        assert_eq!(
            shape(&Node::Not(Box::new(labels), 0)),
            ["not 2 labels", "match"]
        );
        // Anything else is walked by a nested run.
        let mixed = Node::Alt(vec![label(0, vec![]), name()], 0);
        assert_eq!(
            shape(&Node::Not(Box::new(mixed), 0))[0],
            "Not { needs: 0, end: 6 }"
        );
    }

    #[test]
    fn repetitions_of_what_can_match_nothing_or_of_many_copies_are_counted() {
        let nothing = repeat(Node::Seq(vec![Node::LineStart], u64::MAX), 1, u32::MAX);
        let program = Program::compile(&nothing).unwrap();
        assert_eq!(program.registers, 1);
        assert_eq!(
            shape(&nothing),
            ["CountStart(0)", "count 4", "^", "next 1", "match"]
        );
        assert_eq!(
            shape(&repeat(name(), 2, 20)),
            ["CountStart(0)", "count 4", "token", "next 1", "match"]
        );
    }
}
