//! The backtracking machine that runs a rule's [`Program`] at a token: it walks the program's
//! instructions, keeps its choice points on a stack and goes back to the last one when a step
//! fails, down every path, so the longest match and the captures of the first path to reach it
//! are found.

use super::{Annotation, Capture, State, NONE};
use crate::label::Label;
use crate::rules::program::{Inst, Program, Reg};
use crate::rules::CompiledFilter;

/// Instructions one attempt (a rule at a start token) may run, so a pathological pattern cannot
/// stall a document. The built-in rules run under 300 on news text.
const STEP_BUDGET: u32 = 20_000;

impl State<'_> {
    /// Where the longest match of `program` at `start` ends, if it matches, and its captures.
    pub(super) fn longest<'m>(
        &self,
        program: &Program,
        start: u32,
        machine: &'m mut Machine,
    ) -> Option<(u32, &'m [Capture])> {
        machine.prepare(program);
        let line_end = self.tables.line_ends[start as usize];
        let end = self.exec(&program.insts, 0, start, line_end, machine, true)?;
        Some((end, &machine.best))
    }

    /// Runs `program` from instruction `pc` at token `pos`, backtracking: with `longest`, down
    /// every path, keeping the longest match's end and captures (in `machine.best`); without, up
    /// to the first match. `line_end` is where the line ends: matches stay on one line.
    fn exec(
        &self,
        program: &[Inst],
        mut pc: usize,
        mut pos: u32,
        line_end: u32,
        machine: &mut Machine,
        longest: bool,
    ) -> Option<u32> {
        let (base, mark) = (machine.stack.len(), machine.mark());
        let mut end = None;
        'run: while machine.budget > 0 {
            machine.budget -= 1;
            let bits = self.tables.token_bits[pos as usize];
            let moved = match &program[pc] {
                Inst::Label {
                    label,
                    bit,
                    filters,
                } => {
                    let from = self.tables.first_at[pos as usize];
                    let step = LabelStep {
                        label: *label,
                        filters,
                        pc,
                    };
                    let last = (bits & bit != 0)
                        .then(|| self.take_label(step, pos, from, line_end, machine))
                        .flatten();
                    last.is_some_and(|last| {
                        pos = last;
                        next_instruction(&mut pc)
                    })
                }
                Inst::Literal(words) => {
                    let at = pos as usize;
                    let fits = pos + words.len() as u32 <= line_end
                        && self
                            .tables
                            .words
                            .get(at..at + words.len())
                            .is_some_and(|tokens| {
                                // Element by element: a slice comparison calls memcmp, for a word or two.
                                tokens
                                    .iter()
                                    .zip(words.iter())
                                    .all(|(token, word)| token == word)
                            });
                    if fits {
                        pos += words.len() as u32;
                        pc += 1;
                    }
                    fits
                }
                Inst::Token(bit) => {
                    let fits = pos < line_end && bits & bit != 0;
                    if fits {
                        pos += 1;
                        pc += 1;
                    }
                    fits
                }
                Inst::LineStart => self.at_line_start(pos) && next_instruction(&mut pc),
                Inst::LineEnd => pos >= line_end && next_instruction(&mut pc),
                Inst::Guard(needs) => bits & needs != 0 && next_instruction(&mut pc),
                Inst::Split { needs, other } => {
                    if bits & needs != 0 {
                        machine.choice(*other as usize, pos);
                        pc += 1;
                    } else {
                        pc = *other as usize;
                    }
                    true
                }
                Inst::Jump(to) => {
                    pc = *to as usize;
                    true
                }
                Inst::Again { needs, body } => {
                    if bits & needs != 0 {
                        machine.choice(pc + 1, pos);
                        pc = *body as usize;
                    } else {
                        pc += 1;
                    }
                    true
                }
                // Counted repetitions are rare: out of line, they leave the registers to the
                // usual steps.
                counted @ (Inst::CountStart(_)
                | Inst::CountLoop { .. }
                | Inst::CountNext { .. }) => machine.count(counted, &mut pc, pos, bits),
                Inst::CaptureOpen { capture, needs } => {
                    let open = bits & needs != 0;
                    if open {
                        machine.open(*capture, pos);
                        pc += 1;
                    }
                    open
                }
                Inst::CaptureClose { name, capture } => {
                    machine.close(*name, *capture, pos);
                    pc += 1;
                    true
                }
                Inst::Not { needs, end: after } => {
                    let matched = bits & needs != 0
                        && self
                            .exec(program, pc + 1, pos, line_end, machine, false)
                            .is_some();
                    if !matched {
                        pc = *after as usize;
                    }
                    !matched
                }
                Inst::NotLabels { needs, options } => {
                    let found = bits & needs != 0 && self.label_at(options, pos, line_end);
                    !found && next_instruction(&mut pc)
                }
                Inst::Match => {
                    if !longest {
                        end = Some(pos);
                        break 'run;
                    }
                    if end.is_none_or(|best| pos > best) {
                        end = Some(pos);
                        machine.best.clone_from(&machine.caps);
                    }
                    false
                }
            };
            if moved {
                continue;
            }
            // Back to the last choice point.
            loop {
                if machine.stack.len() == base {
                    break 'run;
                }
                match machine.stack.pop() {
                    Some(Frame::Resume {
                        pc: at,
                        pos: from,
                        mark,
                    }) => {
                        machine.back_to(mark);
                        (pc, pos) = (at, from);
                        continue 'run;
                    }
                    Some(Frame::NextLabel {
                        pc: at,
                        pos: from,
                        mark,
                        id,
                    }) => {
                        machine.back_to(mark);
                        let Inst::Label { label, filters, .. } = &program[at] else {
                            unreachable!("only a label step leaves a choice of annotations");
                        };
                        let step = LabelStep {
                            label: *label,
                            filters,
                            pc: at,
                        };
                        if let Some(end) = self.take_label(step, from, id, line_end, machine) {
                            (pc, pos) = (at + 1, end);
                            continue 'run;
                        }
                    }
                    Some(Frame::Restore { reg, value }) => machine.regs[reg as usize] = value,
                    None => break 'run,
                }
            }
        }
        // A nested run (a negation) leaves the stack and the captures as it found them, and
        // drops its `Restore` frames unapplied: the registers it changed are its own, and each is
        // written before it is read. A whole attempt's leftovers are cleared by the next
        // attempt's `prepare`, and only its best captures are read.
        if !longest {
            machine.stack.truncate(base);
            machine.back_to(mark);
        }
        end
    }

    /// Whether an annotation of one of the labels of `options`, passing that label's filters,
    /// starts at `pos` and ends by `line_end`.
    #[inline(never)]
    fn label_at(
        &self,
        options: &[(Label, Box<[CompiledFilter]>)],
        pos: u32,
        line_end: u32,
    ) -> bool {
        self.starting_at(pos).any(|id| {
            let a = &self.annotations[id as usize];
            a.alive
                && a.last <= line_end
                && options.iter().any(|(label, filters)| {
                    a.label == *label && filters.iter().all(|f| self.filter(id, f))
                })
        })
    }

    /// Takes, for label step `step` at token `pos`, the first annotation from `id` on (in the
    /// list of those starting there) that is alive, of the step's label, ends by `line_end` and
    /// passes the step's filters; returns where it ends.
    fn take_label(
        &self,
        step: LabelStep<'_>,
        pos: u32,
        mut id: u32,
        line_end: u32,
        machine: &mut Machine,
    ) -> Option<u32> {
        while id != NONE {
            let a = &self.annotations[id as usize];
            if a.alive
                && a.label == step.label
                && a.last <= line_end
                && step.filters.iter().all(|f| self.filter(id, f))
            {
                return Some(machine.take(step.pc, pos, id, &self.annotations, &self.tables.next));
            }
            id = self.tables.next[id as usize];
        }
        None
    }
}

/// A label step, read from its instruction by the caller, which has matched it already.
#[derive(Clone, Copy)]
struct LabelStep<'p> {
    label: Label,
    filters: &'p [CompiledFilter],
    /// Where the step is in its program.
    pc: usize,
}

/// The backtracking machine's working memory, reused by every attempt of a phase.
#[derive(Default)]
pub(super) struct Machine {
    /// Choice points, and register values to put back on the way to them; newest last.
    stack: Vec<Frame>,
    /// The captures of the path being walked.
    caps: Vec<Capture>,
    /// The captures opened on the path being walked, closed or not (a choice point may return
    /// to before a capture closed): which capture, where it starts and how many captures there
    /// were then.
    opens: Vec<(u16, u32, u32)>,
    /// The captures of the longest match so far.
    best: Vec<Capture>,
    regs: Vec<[u32; 2]>,
    /// Instructions the attempt may still run.
    budget: u32,
}

/// How long the lists of captures and of opened captures were at a choice point.
#[derive(Clone, Copy)]
struct Mark {
    caps: u32,
    opens: u32,
}

enum Frame {
    /// Resume at instruction `pc` and token `pos`.
    Resume { pc: usize, pos: u32, mark: Mark },
    /// Resume the label step at `pc` with the annotations from `id` on.
    NextLabel {
        pc: usize,
        pos: u32,
        mark: Mark,
        id: u32,
    },
    /// Put back a register's value.
    Restore { reg: Reg, value: [u32; 2] },
}

impl Machine {
    /// Ready for an attempt of `program`.
    fn prepare(&mut self, program: &Program) {
        self.stack.clear();
        self.caps.clear();
        self.opens.clear();
        if self.regs.len() < program.registers {
            self.regs.resize(program.registers, [0; 2]);
        }
        self.budget = STEP_BUDGET;
    }

    fn mark(&self) -> Mark {
        Mark {
            caps: self.caps.len() as u32,
            opens: self.opens.len() as u32,
        }
    }

    /// Forgets the captures made and opened since `mark`.
    fn back_to(&mut self, mark: Mark) {
        self.caps.truncate(mark.caps as usize);
        self.opens.truncate(mark.opens as usize);
    }

    /// A choice point: resume at `pc` and `pos` when the branch taken now is done.
    fn choice(&mut self, pc: usize, pos: u32) {
        let mark = self.mark();
        self.stack.push(Frame::Resume { pc, pos, mark });
    }

    /// Changes register `reg`, remembering its value for when the machine backtracks past here.
    fn set(&mut self, reg: Reg, change: impl FnOnce(&mut [u32; 2])) {
        let value = &mut self.regs[reg as usize];
        self.stack.push(Frame::Restore { reg, value: *value });
        change(value);
    }

    /// Takes annotation `id` for the label step at `pc` and token `pos` (the next annotation
    /// starting there is a choice point); returns where it ends.
    // Marked: the compiler stops inlining it on its own after unrelated changes, and the call
    // costs as much as the work.
    #[inline]
    fn take(
        &mut self,
        pc: usize,
        pos: u32,
        id: u32,
        annotations: &[Annotation],
        next: &[u32],
    ) -> u32 {
        let following = next[id as usize];
        if following != NONE {
            let mark = self.mark();
            self.stack.push(Frame::NextLabel {
                pc,
                pos,
                mark,
                id: following,
            });
        }
        let last = annotations[id as usize].last;
        self.caps.push(Capture {
            name: u16::MAX,
            first: pos,
            last,
            annotation: Some(id),
        });
        last
    }

    /// A step of a counted repetition at token `pos` with `bits` (see [`Inst::CountStart`]);
    /// whether it succeeds.
    #[cold]
    #[inline(never)]
    fn count(&mut self, inst: &Inst, pc: &mut usize, pos: u32, bits: u64) -> bool {
        match inst {
            Inst::CountStart(counter) => {
                self.set(*counter, |r| r[0] = 0);
                *pc += 1;
                true
            }
            Inst::CountLoop {
                counter,
                min,
                max,
                needs,
                exit,
            } => {
                let count = self.regs[*counter as usize][0];
                if count >= *min {
                    self.choice(*exit as usize, pos);
                }
                let again = count < *max && bits & needs != 0;
                if again {
                    self.set(*counter, |r| r[1] = pos);
                    *pc += 1;
                }
                again
            }
            Inst::CountNext { counter, head } => {
                // An iteration that consumed nothing would repeat forever.
                let moved = pos > self.regs[*counter as usize][1];
                if moved {
                    self.set(*counter, |r| r[0] += 1);
                    *pc = *head as usize;
                }
                moved
            }
            _ => unreachable!("only a counted repetition's steps count"),
        }
    }

    /// Opens capture number `capture` at `pos`.
    fn open(&mut self, capture: u16, pos: u32) {
        let caps = self.caps.len() as u32;
        self.opens.push((capture, pos, caps));
    }

    /// Closes capture number `capture` as `name` at `pos`.
    fn close(&mut self, name: u16, capture: u16, pos: u32) {
        // The latest opening of this capture is this one: a capture cannot hold itself, and a
        // repeated one was opened again after its earlier closes.
        let Some(&(_, first, caps)) = self.opens.iter().rev().find(|open| open.0 == capture) else {
            unreachable!("a capture closes after it opens");
        };
        // A label consumed directly under the capture lends it its annotation.
        let annotation = match self.caps.get(caps as usize) {
            Some(c) if c.name == u16::MAX && c.first == first && c.last == pos => c.annotation,
            _ => None,
        };
        self.caps.push(Capture {
            name,
            first,
            last: pos,
            annotation,
        });
    }
}

/// Moves to the next instruction; true, for steps that succeed.
fn next_instruction(pc: &mut usize) -> bool {
    *pc += 1;
    true
}
