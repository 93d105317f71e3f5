//! Property tests: the normaliser and the whole pipeline on arbitrary and on Vietnamese-like
//! text (NFC and NFD, non-breaking spaces, stray combining marks, mixed case) keep every offset
//! within bounds and on character boundaries, and every mention's text equal to its slice. The
//! same invariants are fuzzed by the targets under `fuzz/`; fuzz findings are pinned here.

mod invariants;

use std::sync::OnceLock;

use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;
use vnner::Pipeline;

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| Pipeline::builtin().expect("the built-in resources load"))
}

/// Syllables and phrases the gazetteers and rules know, so generated text reaches the rules.
const PHRASES: &[&str] = &[
    "Đồng chí",
    "Lưu Văn Dương",
    "Nguyễn Thị Thu Thủy",
    "Chủ tịch",
    "Phó Chủ tịch",
    "UBND",
    "HĐND",
    "huyện",
    "Trực Ninh",
    "tỉnh",
    "Nam Định",
    "Uỷ ban nhân dân",
    "Bí thư",
    "Huyện ủy",
    "xã Hoà An",
    "Sở Tài chính & Kế hoạch",
    "GS.TS",
    "ông",
    "bà",
    "phát biểu",
    "Quý IV",
];

/// One piece of text: a known phrase in any case and normal form, or a tricky character.
fn piece() -> impl Strategy<Value = String> {
    let phrase = (prop::sample::select(PHRASES), 0..4u8).prop_map(|(p, form)| match form {
        0 => p.to_string(),
        1 => p.nfd().collect(),
        2 => p.to_uppercase(),
        _ => p.to_lowercase().nfd().collect(),
    });
    let tricky = prop::sample::select(vec![
        " ",
        " ",
        "\u{a0}",
        "\n",
        "\r\n",
        "\t",
        "\u{300}",
        "\u{301}",
        "\u{309}",
        "\u{303}",
        "\u{323}",
        "\u{31b}",
        "\u{200b}",
        "\u{feff}",
        "-",
        "–",
        "&",
        ",",
        ".",
        ":",
        "“",
        "”",
        "(",
        ")",
        "İ",
        "ẞ",
        "ǅ",
        "\u{345}",
        "\u{1f600}",
        "0",
        "12",
    ])
    .prop_map(str::to_string);
    prop_oneof![4 => phrase, 4 => tricky, 1 => any::<char>().prop_map(String::from)]
}

fn vietnamese_like() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn normalised_offsets_hold_on_any_text(text in any::<String>()) {
        invariants::check_normalized(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn normalised_offsets_hold_on_vietnamese_like_text(text in vietnamese_like()) {
        invariants::check_normalized(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn mentions_are_their_slices_on_any_text(text in any::<String>()) {
        invariants::check_annotations(&text, &pipeline().annotate(&text)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn mentions_are_their_slices_on_vietnamese_like_text(text in vietnamese_like()) {
        invariants::check_annotations(&text, &pipeline().annotate(&text)).map_err(TestCaseError::fail)?;
    }

    /// Memory a workspace keeps from longer or shorter documents before changes nothing.
    #[test]
    fn a_reused_workspace_annotates_as_a_new_one(
        texts in prop::collection::vec(vietnamese_like(), 1..8)
    ) {
        let mut workspace = vnner::Workspace::default();
        for text in &texts {
            prop_assert_eq!(
                pipeline().annotate_with(text, &mut workspace),
                pipeline().annotate(text)
            );
        }
    }
}

#[test]
fn known_mention_keeps_its_original_form() {
    // An NFD, old-tone-placement spelling is reported exactly as written.
    let text: String = "Đồng chí Lưu Văn Dương - Chủ tịch UBND huyện Trực Ninh phát biểu."
        .nfd()
        .collect();
    let found = pipeline().annotate(&text);
    invariants::check_annotations(&text, &found).unwrap();
    let person = found
        .mentions
        .iter()
        .find(|m| m.kind == "PER")
        .expect("a person");
    assert_eq!(person.text, "Lưu Văn Dương".nfd().collect::<String>());
}
