//! Labels: the interned names of annotation kinds (gazetteer kinds such as `title`, rule outputs
//! such as `ORG`), so the hot loops compare integers.

use rustc_hash::FxHashMap;

/// An interned label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(pub u16);

/// The four mention types written to `mentions.csv`.
pub const MENTION_TYPES: [&str; 4] = ["PER", "ROLE", "ORG", "LOC"];

/// Label names and their ids.
#[derive(Debug, Default, Clone)]
pub struct Labels {
    names: Vec<String>,
    ids: FxHashMap<String, Label>,
    /// Whether each label is a mention type, decided once at interning: the writer asks for
    /// every annotation of every document.
    mention: Vec<bool>,
}

impl Labels {
    /// The label for `name`, interning it on first use.
    pub fn intern(&mut self, name: &str) -> Label {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = Label(u16::try_from(self.names.len()).expect("fewer than 65536 labels"));
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        self.mention.push(MENTION_TYPES.contains(&name));
        id
    }

    /// The label for `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Label> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, label: Label) -> &str {
        &self.names[label.0 as usize]
    }

    /// How many labels there are: every label's id is below it.
    pub fn count(&self) -> usize {
        self.names.len()
    }

    /// Whether `label` is one of the output mention types.
    pub fn is_mention(&self, label: Label) -> bool {
        self.mention[label.0 as usize]
    }
}
