//! Place extraction and resolution: context, both eras, aliases, numbered units, spelling forms.

use std::collections::HashMap;
use std::sync::OnceLock;

use vnner::Pipeline;

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| Pipeline::builtin().expect("built-in pipeline"))
}

#[derive(Debug)]
struct Loc {
    text: String,
    canonical: String,
    detail: HashMap<String, String>,
}

impl Loc {
    fn get(&self, key: &str) -> &str {
        self.detail.get(key).map_or("", String::as_str)
    }
}

fn locs(text: &str) -> Vec<Loc> {
    pipeline()
        .annotate(text)
        .mentions
        .into_iter()
        .filter(|m| m.kind == "LOC")
        .map(|m| Loc {
            text: m.text.to_string(),
            canonical: m.canonical.into_owned(),
            detail: m
                .detail
                .split("; ")
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
        .collect()
}

/// The mentions written `name`, in order.
fn named<'a>(found: &'a [Loc], name: &str) -> Vec<&'a Loc> {
    let v: Vec<&Loc> = found.iter().filter(|l| l.text == name).collect();
    assert!(!v.is_empty(), "no LOC {name:?} in {found:#?}");
    v
}

fn one<'a>(found: &'a [Loc], name: &str) -> &'a Loc {
    named(found, name)[0]
}

#[test]
fn context_resolves_xuan_phuc_to_thanh_hoa() {
    let found = locs(
        "Về thăm huyện Như Thanh, đồng chí Bí thư Tỉnh ủy đã đến xã Xuân Phúc kiểm tra sản xuất.",
    );
    let nt = one(&found, "Như Thanh");
    assert_eq!(
        (nt.get("code"), nt.get("level"), nt.get("era")),
        ("403", "huyện", "pre2025")
    );
    assert_eq!(nt.canonical, "huyện Như Thanh, tỉnh Thanh Hóa");
    assert_eq!(
        nt.get("became"),
        "38",
        "a district became the 2025 province of its communes"
    );
    let xp = one(&found, "Xuân Phúc");
    assert_eq!((xp.get("code"), xp.get("province")), ("16261", "Thanh Hóa"));
    assert_eq!(
        xp.canonical,
        "xã Xuân Phúc, huyện Như Thanh, tỉnh Thanh Hóa"
    );
    // Without context the name stays ambiguous and says so.
    let alone = locs("Đoàn đã đến xã Xuân Phúc.");
    let xp = one(&alone, "Xuân Phúc");
    assert_eq!(xp.get("code"), "");
    assert!(
        xp.get("candidates").contains("16261") && xp.get("candidates").contains("14146"),
        "{xp:?}"
    );
}

#[test]
fn context_resolves_co_le_in_a_nam_dinh_document() {
    let found = locs("Sáng nay, tỉnh Nam Định tổ chức hội nghị tại thị trấn Cổ Lễ.");
    let cl = one(&found, "Cổ Lễ");
    assert_eq!(
        (
            cl.get("code"),
            cl.get("level"),
            cl.get("era"),
            cl.get("became")
        ),
        ("14026", "thị trấn", "pre2025", "14026")
    );
    assert_eq!(
        cl.canonical,
        "thị trấn Cổ Lễ, huyện Trực Ninh, tỉnh Nam Định"
    );
}

#[test]
fn both_eras_and_the_unit_it_became() {
    let new = locs("Xã Cổ Lễ, tỉnh Ninh Bình vừa tổ chức Đại hội Đảng bộ lần thứ I.");
    let cl = one(&new, "Cổ Lễ");
    assert_eq!(
        (cl.get("code"), cl.get("era"), cl.get("level")),
        ("14026", "2025", "xã")
    );
    assert_eq!(cl.canonical, "xã Cổ Lễ, tỉnh Ninh Bình");
    assert_eq!(one(&new, "Ninh Bình").get("era"), "2025");

    // A commune merged away in 2019, with its successor's 2025 unit.
    let old =
        locs("Năm 2018, xã Hải Vân, huyện Như Thanh, tỉnh Thanh Hóa đạt chuẩn nông thôn mới.");
    let hv = one(&old, "Hải Vân");
    assert_eq!(
        (hv.get("code"), hv.get("era"), hv.get("until")),
        ("16255", "historical", "2019-12-01")
    );
    assert!(!hv.get("became").is_empty());

    // Old and new names in one sentence: `nay là` puts the second pair in 2025.
    let mixed = locs("Phường Nhà Bàng, thị xã Tịnh Biên, tỉnh An Giang (nay là phường Thới Sơn, tỉnh An Giang) có truyền thống cách mạng.");
    let ag = named(&mixed, "An Giang");
    assert_eq!((ag[0].get("code"), ag[0].get("era")), ("89", "pre2025"));
    assert_eq!((ag[1].get("code"), ag[1].get("era")), ("91", "2025"));
    assert_eq!(one(&mixed, "Thới Sơn").get("era"), "2025");
}

#[test]
fn aliases_and_abbreviations() {
    let found =
        locs("Đoàn công tác của TP.HCM và Thủ đô Hà Nội đến Đắc Lắk, rồi về TP. Hồ Chí Minh.");
    assert_eq!(one(&found, "HCM").get("code"), "79");
    assert_eq!(one(&found, "Hà Nội").get("code"), "01");
    assert_eq!(one(&found, "Đắc Lắk").get("code"), "66");
    assert_eq!(
        one(&found, "Hồ Chí Minh").canonical,
        "thành phố Hồ Chí Minh"
    );
}

#[test]
fn numbered_units() {
    let found = locs(
        "Người dân Phường 12, Quận 10, TP. Hồ Chí Minh và thôn 3 xã Xuân Phúc, huyện Như Thanh.",
    );
    let q = one(&found, "Quận 10");
    assert_eq!((q.get("code"), q.get("level")), ("771", "quận"), "{q:?}");
    let p = one(&found, "Phường 12");
    assert_eq!(p.get("level"), "phường");
    assert!(p.canonical.starts_with("phường 12, quận 10"), "{p:?}");
    let t = one(&found, "thôn 3");
    assert_eq!((t.get("level"), t.get("known")), ("thôn", "no"));
    assert_eq!(
        one(&locs("Tại Quận 1, TP.HCM")[..], "Quận 1").get("code"),
        "760"
    );
}

#[test]
fn nfd_old_tone_and_all_caps() {
    let nfd: String = unicode_nfd("huyện Như Thanh, tỉnh Thanh Hóa");
    let found = locs(&format!("Về {nfd} công tác."));
    assert_eq!(
        found.iter().map(|l| l.get("code")).collect::<Vec<_>>(),
        ["403", "38"]
    );
    let old = locs("xã Hoằng Thanh, huyện Hoằng Hoá, tỉnh Thanh Hoá");
    assert_eq!(one(&old, "Thanh Hoá").get("code"), "38");
    assert_eq!(
        one(&old, "Hoằng Hoá").canonical,
        "huyện Hoằng Hóa, tỉnh Thanh Hóa"
    );
    let caps = locs("HUYỆN NHƯ THANH, TỈNH THANH HÓA");
    assert_eq!(one(&caps, "NHƯ THANH").get("code"), "403");
}

fn unicode_nfd(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd().collect()
}

#[test]
fn lists_after_one_unit_word() {
    let found =
        locs("Huyện Như Thanh chỉ đạo các xã: Phượng Nghi, Cán Khê, Mậu Lâm triển khai kế hoạch.");
    for (name, code) in [
        ("Phượng Nghi", "16240"),
        ("Cán Khê", "16231"),
        ("Mậu Lâm", "16243"),
    ] {
        assert_eq!(one(&found, name).get("code"), code, "{name}");
    }
    let found = locs("Xã Cán Khê, Xuân Du và Phượng Nghi thuộc huyện Như Thanh.");
    assert_eq!(one(&found, "Xuân Du").get("code"), "16234");
}

#[test]
fn unknown_villages_and_misspelt_units() {
    let found = locs(
        "Bà con xóm Trại và tổ dân phố Tây Kênh, thị trấn Cổ Lễ, huyện Trục Ninh, tỉnh Nam Định.",
    );
    let trai = one(&found, "Trại");
    assert_eq!((trai.get("level"), trai.get("known")), ("xóm", "no"));
    let tk = one(&found, "Tây Kênh");
    assert_eq!((tk.get("level"), tk.get("known")), ("tổ dân phố", "no"));
    let tn = one(&found, "Trục Ninh");
    assert_eq!((tn.get("code"), tn.get("fuzzy")), ("363", "yes"));
}

#[test]
fn bare_names_only_where_context_makes_them_places() {
    let found = locs("Huyện Vĩnh Thạnh, tỉnh Bình Định có nhiều xã đạt chuẩn. Năm nay, Vĩnh Thạnh phấn đấu về đích.");
    let vt = named(&found, "Vĩnh Thạnh");
    assert_eq!(vt.len(), 2);
    assert!(vt.iter().all(|l| l.get("code") == "546"), "{vt:?}");
    // A capitalised word the document never writes as a place is not one.
    assert!(locs("Trực Ninh cần cố gắng hơn.").is_empty());
}
