//! Tricky sentences, one concern per test: Unicode forms, case, spaces, lists, and every
//! person-holds-role pattern. Each row says what the text holds, as an analyst would mark it.

#[allow(dead_code)] // this test file uses only the annotation checks of the shared module
mod invariants;

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use vnner::{Annotations, Pipeline};

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| Pipeline::builtin().expect("the built-in gazetteers and rules load"))
}

fn annotate(text: &str) -> Annotations<'_> {
    let found = pipeline().annotate(text);
    if let Err(problem) = invariants::check_annotations(text, &found) {
        panic!("{problem} in {text:?}");
    }
    found
}

/// `(type, text)` of every mention, in document order.
fn mentions(found: &Annotations) -> Vec<(String, String)> {
    found
        .mentions
        .iter()
        .map(|m| (m.kind.to_string(), m.text.to_string()))
        .collect()
}

fn has(found: &Annotations, kind: &str, text: &str) -> bool {
    found
        .mentions
        .iter()
        .any(|m| m.kind == kind && m.text == text)
}

/// `(person, role)` pairs.
fn relations(found: &Annotations) -> Vec<(String, String)> {
    found
        .relations
        .iter()
        .map(|r| (r.person.clone(), r.role.clone()))
        .collect()
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn nested_role_body_place() {
    let found = annotate("Đồng chí Phạm Gia Túc, Bí thư Huyện ủy Trực Ninh phát biểu.");
    let want = [
        ("PER", "Phạm Gia Túc"),
        ("ROLE", "Bí thư Huyện ủy Trực Ninh"),
        ("ORG", "Huyện ủy Trực Ninh"),
        ("LOC", "Trực Ninh"),
    ];
    assert_eq!(mentions(&found), pairs(&want));
}

#[test]
fn nfd_input_keeps_original_offsets_and_text() {
    let nfc = "Dự hội nghị có đồng chí Lưu Văn Dương - Chủ tịch UBND huyện Trực Ninh.";
    let nfd: String = nfc.nfd().collect();
    let found = annotate(&nfd);
    let person = found
        .mentions
        .iter()
        .find(|m| m.kind == "PER")
        .expect("a person");
    assert_eq!(person.text, "Lưu Văn Dương".nfd().collect::<String>());
    assert_eq!(person.canonical, "Lưu Văn Dương");
    let place = found
        .mentions
        .iter()
        .find(|m| m.kind == "LOC")
        .expect("a place");
    assert!(place.detail.contains("code=363"), "{}", place.detail);
    assert_eq!(relations(&found).len(), 1);
}

#[test]
fn old_tone_placement_matches_and_is_canonicalised() {
    let found = annotate("Phó Chủ tịch Uỷ ban nhân dân tỉnh Thanh Hoá làm việc với xã Hoà Bình.");
    assert!(has(
        &found,
        "ROLE",
        "Phó Chủ tịch Uỷ ban nhân dân tỉnh Thanh Hoá"
    ));
    let province = found
        .mentions
        .iter()
        .find(|m| m.text == "Thanh Hoá")
        .expect("Thanh Hoá");
    assert_eq!(province.canonical, "tỉnh Thanh Hóa");
    let body = found
        .mentions
        .iter()
        .find(|m| m.kind == "ORG")
        .expect("a body");
    assert_eq!(body.canonical, "Ủy ban nhân dân tỉnh Thanh Hóa");
}

#[test]
fn all_caps_headline() {
    let found = annotate("UBND HUYỆN NHƯ THANH TỔ CHỨC HỘI NGHỊ TRIỂN KHAI NHIỆM VỤ");
    let want = [("ORG", "UBND HUYỆN NHƯ THANH"), ("LOC", "NHƯ THANH")];
    assert_eq!(mentions(&found), pairs(&want));
}

#[test]
fn non_breaking_spaces_count_as_code_points() {
    let text = "Đồng\u{a0}chí\u{a0}Lưu Văn Dương\u{a0}-\u{a0}Phó Bí thư Huyện ủy";
    let found = annotate(text);
    let person = found
        .mentions
        .iter()
        .find(|m| m.kind == "PER")
        .expect("a person");
    assert_eq!((person.start, person.end), (9, 22));
    assert_eq!(
        relations(&found),
        pairs(&[("Lưu Văn Dương", "Phó Bí thư Huyện ủy")])
    );
}

#[test]
fn lists_of_places_after_one_unit_word() {
    let found = annotate("Tiến độ chậm ở các xã: Phượng Nghi, Cán Khê và Mậu Lâm; xã Thanh Tân, Xuân Khang, Xuân Du.");
    let places: Vec<String> = found
        .mentions
        .iter()
        .filter(|m| m.kind == "LOC")
        .map(|m| m.text.to_string())
        .collect();
    assert_eq!(
        places,
        [
            "Phượng Nghi",
            "Cán Khê",
            "Mậu Lâm",
            "Thanh Tân",
            "Xuân Khang",
            "Xuân Du"
        ]
    );
}

#[test]
fn numbered_and_village_units() {
    let found = annotate("Người dân thôn 3 và xóm Trại, tổ dân phố Tây Kênh, Quận 1.");
    for (kind, text) in [
        ("LOC", "thôn 3"),
        ("LOC", "Trại"),
        ("LOC", "Tây Kênh"),
        ("LOC", "Quận 1"),
    ] {
        assert!(has(&found, kind, text), "{text}: {:?}", mentions(&found));
    }
    let village = found
        .mentions
        .iter()
        .find(|m| m.text == "Trại")
        .expect("xóm Trại");
    assert!(village.detail.contains("known=no"), "{}", village.detail);
}

#[test]
fn name_dash_roles() {
    let found =
        annotate("đồng chí Đặng Tiến Dũng - Phó Bí thư Huyện ủy - Chủ tịch UBND huyện kết luận");
    let want = [
        ("Đặng Tiến Dũng", "Phó Bí thư Huyện ủy"),
        ("Đặng Tiến Dũng", "Chủ tịch UBND huyện"),
    ];
    assert_eq!(relations(&found), pairs(&want));
}

#[test]
fn name_comma_roles() {
    let found = annotate("Dự có đồng chí Vũ Ngọc Thưởng, Phó Bí thư Thường trực Huyện ủy, Chủ tịch HĐND huyện; các đồng chí Ủy viên BTV Huyện ủy.");
    let want = [
        ("Vũ Ngọc Thưởng", "Phó Bí thư Thường trực Huyện ủy"),
        ("Vũ Ngọc Thưởng", "Chủ tịch HĐND huyện"),
    ];
    assert_eq!(relations(&found), pairs(&want));
    assert!(has(&found, "ROLE", "Ủy viên BTV Huyện ủy"));
}

#[test]
fn role_then_name() {
    let found = annotate("Bí thư Tỉnh ủy Đỗ Trọng Hưng kiểm tra công trình.");
    assert_eq!(
        relations(&found),
        pairs(&[("Đỗ Trọng Hưng", "Bí thư Tỉnh ủy")])
    );
}

#[test]
fn name_then_role_in_parentheses() {
    let found = annotate("Ông Nguyễn Văn Nam (Chủ tịch UBND xã Cán Khê) cho biết.");
    assert_eq!(
        relations(&found),
        pairs(&[("Nguyễn Văn Nam", "Chủ tịch UBND xã Cán Khê")])
    );
}

#[test]
fn elected_to_a_role() {
    let found = annotate(
        "Hội nghị đã bầu đồng chí Trần Thị Mai giữ chức Chủ tịch HĐND huyện nhiệm kỳ 2021-2026.",
    );
    assert_eq!(
        relations(&found),
        pairs(&[("Trần Thị Mai", "Chủ tịch HĐND huyện")])
    );
}

#[test]
fn a_nameless_role_refers_to_its_holder() {
    let found = annotate("Đồng chí Lưu Văn Dương - Chủ tịch UBND huyện dự. Đồng chí Chủ tịch UBND huyện yêu cầu các xã.");
    let nameless = found
        .mentions
        .iter()
        .filter(|m| m.kind == "ROLE")
        .nth(1)
        .expect("a second role");
    assert!(
        nameless.detail.contains("refers_to=Lưu Văn Dương"),
        "{}",
        nameless.detail
    );
    assert_eq!(
        found.relations.len(),
        1,
        "a role without a name adds no pair"
    );
}

#[test]
fn plural_bodies_are_not_bodies() {
    let found =
        annotate("UBND các xã, thị trấn và HĐND các cấp cùng các phòng, ban, ngành thực hiện.");
    assert!(
        !found.mentions.iter().any(|m| m.kind == "ORG"),
        "{:?}",
        mentions(&found)
    );
}

#[test]
fn document_numbers_are_not_bodies() {
    let found =
        annotate("Theo Quyết định số 05/QĐ-UBND ngày 06/01/2021 của Ủy ban nhân dân huyện.");
    assert_eq!(mentions(&found), pairs(&[("ORG", "Ủy ban nhân dân huyện")]));
}

#[test]
fn names_inside_other_names_are_not_persons() {
    let found = annotate("Đoàn TNCS Hồ Chí Minh huyện và Trường THPT Lê Quý Đôn học tập tư tưởng Hồ Chí Minh tại đường Trần Phú.");
    let persons: Vec<String> = found
        .mentions
        .iter()
        .filter(|m| m.kind == "PER")
        .map(|m| m.text.to_string())
        .collect();
    assert_eq!(persons, ["Hồ Chí Minh"]);
    assert!(
        has(&found, "ORG", "Đoàn TNCS Hồ Chí Minh huyện"),
        "{:?}",
        mentions(&found)
    );
}

#[test]
fn bylines() {
    let found =
        annotate("… phát triển kinh tế./.\n\nTin, ảnh: Thanh Thúy\nĐức Nguyên-Hiệp Thương, BBT");
    let persons: Vec<String> = found
        .mentions
        .iter()
        .filter(|m| m.kind == "PER")
        .map(|m| m.text.to_string())
        .collect();
    assert_eq!(persons, ["Thanh Thúy", "Đức Nguyên", "Hiệp Thương"]);
}

#[test]
fn abbreviations_expand_in_canonical() {
    let found = annotate("Ủy viên BCH Đảng bộ tỉnh, Chủ tịch UBMTTQ VN huyện");
    let role = found
        .mentions
        .iter()
        .find(|m| m.kind == "ROLE")
        .expect("a role");
    assert_eq!(role.canonical, "Ủy viên Ban Chấp hành Đảng bộ tỉnh");
    assert!(has(&found, "ORG", "UBMTTQ VN huyện"));
    assert!(has(&found, "LOC", "VN"));
}

#[test]
fn canonical_forms_spell_out_ampersands_and_keep_single_spaces() {
    let found = annotate("Trưởng Phòng Tài chính & Kế hoạch huyện, Trung sỹ  Ban TVTU");
    let canonical = |text: &str| {
        found
            .mentions
            .iter()
            .find(|m| m.text == text)
            .map(|m| m.canonical.clone())
    };
    assert_eq!(
        canonical("Trưởng Phòng Tài chính & Kế hoạch huyện").as_deref(),
        Some("Trưởng Phòng Tài chính và Kế hoạch huyện")
    );
    assert_eq!(
        canonical("Trung sỹ  Ban TVTU").as_deref(),
        Some("Trung sĩ Ban Thường vụ Tỉnh ủy")
    );
}
