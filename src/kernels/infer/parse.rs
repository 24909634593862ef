//! Hand-written, allocation-free recognisers for one trimmed text value.
//!
//! Each recogniser answers "does this value parse as X, and with which details"
//! (number format and width, date format, time variant, ...) in one pass over the
//! bytes, without a regex engine. They follow what DuckDB's own parsers accept, so
//! that the SQL emitted by `cast_expression` converts the same values:
//! `TRY_CAST` for ISO 8601 timestamps, numbers, UUID, INTERVAL and JSON,
//! `try_strptime` for the other date formats (`%d`/`%m` accept one or two digits,
//! `%b` only three-letter month names, `%B` only full names, `%f` one to six digits).
//! Semantic checks use the published check-digit schemes: Luhn (ISO/IEC 7812-1
//! Annex B) for payment cards and ISO 7064 MOD 97-10 for IBAN (ISO 13616).

/// ASCII whitespace that inference (and the SQL `trim`) removes at both ends.
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The value without leading and trailing ASCII whitespace.
pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_ws(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_ws(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Currency symbols (UTF-8) and ISO 4217 codes recognised around numbers.
pub(crate) const CURRENCIES: [&str; 40] = [
    "$", "€", "£", "¥", "₹", "USD", "EUR", "GBP", "JPY", "CHF", "CNY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN",
    "CZK", "HUF", "RUB", "INR", "BRL", "MXN", "ZAR", "KRW", "SGD", "HKD", "TRY", "ILS", "AED", "SAR", "THB", "IDR",
    "MYR", "PHP", "ARS", "CLP", "COP", "TWD",
];

/// Physical units recognised after numbers (`12 kg`, `3.5km`).
pub(crate) const UNITS: [&str; 24] = [
    "kg", "g", "mg", "t", "lb", "lbs", "oz", "km", "m", "cm", "mm", "mi", "ft", "in", "l", "ml", "ms", "s", "min", "h",
    "kwh", "w", "kw", "°c",
];

/// Words read as booleans (case-insensitive): true-words first.
pub(crate) const TRUE_WORDS: [&str; 5] = ["true", "t", "yes", "y", "on"];
/// Words read as `false`.
pub(crate) const FALSE_WORDS: [&str; 5] = ["false", "f", "no", "n", "off"];

fn eq_ignore_case(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// `Some(true|false)` when the value is a boolean word.
pub(crate) fn bool_word(s: &[u8]) -> Option<bool> {
    if s.is_empty() || s.len() > 5 {
        return None;
    }
    if TRUE_WORDS.iter().any(|w| eq_ignore_case(s, w)) {
        return Some(true);
    }
    if FALSE_WORDS.iter().any(|w| eq_ignore_case(s, w)) {
        return Some(false);
    }
    None
}

/// One number as read under a given decimal separator.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Num {
    /// Digits before the decimal separator, leading zeros excluded.
    pub int_digits: u32,
    /// Digits after the decimal separator.
    pub frac_digits: u32,
    /// Scientific notation (`1e5`) or `inf`: only DOUBLE holds it.
    pub exp: bool,
    /// An integer part with a superfluous leading zero (`007`).
    pub leading_zero: bool,
    /// Integer value when there is no fraction and it fits in i128.
    pub int_value: Option<i128>,
    /// A thousands separator was used.
    pub thousands: bool,
    /// The decimal separator was used.
    pub has_dec: bool,
    /// Trailing `%`.
    pub percent: bool,
    /// 1 + index into [`CURRENCIES`], 0 when none.
    pub currency: u8,
    /// 1 + index into [`UNITS`], 0 when none.
    pub unit: u8,
    /// Accounting negative `(1,234.00)`.
    pub paren: bool,
}

impl Num {
    /// True when the value needs more than a plain `TRY_CAST` (separators, symbols).
    pub(crate) fn decorated(&self) -> bool {
        self.thousands || self.percent || self.currency != 0 || self.unit != 0 || self.paren
    }
}

fn match_currency_prefix(s: &[u8]) -> Option<(u8, usize)> {
    // every symbol or code starts with '$', a UTF-8 lead byte or an uppercase letter;
    // a code needs three uppercase letters (most identifiers such as N14228 stop here)
    match s.first() {
        Some(b) if *b == b'$' || *b >= 0xC2 => {}
        Some(b) if b.is_ascii_uppercase() => {
            if s.len() < 3 || !s[1].is_ascii_uppercase() || !s[2].is_ascii_uppercase() {
                return None;
            }
        }
        _ => return None,
    }
    for (i, c) in CURRENCIES.iter().enumerate() {
        let c = c.as_bytes();
        if s.len() >= c.len() && &s[..c.len()] == c {
            // a code must not run into letters ("USDX")
            if c.len() == 3 && c[0].is_ascii_uppercase() {
                if let Some(n) = s.get(3) {
                    if n.is_ascii_alphabetic() {
                        continue;
                    }
                }
            }
            return Some((i as u8 + 1, c.len()));
        }
    }
    None
}

fn match_suffix(s: &[u8]) -> Option<(bool, u8, u8)> {
    // returns (percent, currency, unit) when s is exactly one suffix
    if s == b"%" {
        return Some((true, 0, 0));
    }
    match s.first() {
        Some(b) if s.len() <= 4 && (b.is_ascii_alphabetic() || *b == b'$' || *b >= 0xC2) => {}
        _ => return None,
    }
    for (i, c) in CURRENCIES.iter().enumerate() {
        if s == c.as_bytes() {
            return Some((false, i as u8 + 1, 0));
        }
    }
    for (i, u) in UNITS.iter().enumerate() {
        if s.eq_ignore_ascii_case(u.as_bytes()) {
            return Some((false, 0, i as u8 + 1));
        }
    }
    None
}

/// Reads `s` as a number whose decimal separator is `dec` (`.` or `,`); the thousands
/// separator is the other one. Accepts sign, currency before or after, `%`, a unit,
/// accounting parentheses and (without decorations) scientific notation.
pub(crate) fn parse_number(s: &[u8], dec: u8) -> Option<Num> {
    let thou = if dec == b'.' { b',' } else { b'.' };
    let mut n = Num::default();
    let mut i = 0;
    let mut end = s.len();
    if s.first() == Some(&b'(') {
        if s.last() != Some(&b')') || s.len() < 3 {
            return None;
        }
        n.paren = true;
        i = 1;
        end -= 1;
    }
    let s = &s[..end];
    let mut sign = false;
    let skip_ws = |s: &[u8], mut i: usize| {
        while i < s.len() && s[i] == b' ' {
            i += 1;
        }
        i
    };
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        sign = true;
        i += 1;
    }
    if let Some((c, len)) = match_currency_prefix(&s[i..]) {
        n.currency = c;
        i = skip_ws(s, i + len);
        if !sign && i < s.len() && (s[i] == b'-' || s[i] == b'+') {
            sign = true;
            i += 1;
        }
    }
    if sign && n.paren {
        return None;
    }
    // integer part with optional thousands groups
    let start = i;
    let mut group = 0u32;
    let mut first_group = true;
    let mut value: u128 = 0;
    let mut overflow = false;
    let mut digits_seen = 0u32;
    while i < s.len() {
        let b = s[i];
        if b.is_ascii_digit() {
            group += 1;
            if digits_seen == 0 && b == b'0' && i + 1 < s.len() && s[i + 1].is_ascii_digit() {
                n.leading_zero = true;
            }
            if digits_seen > 0 || b != b'0' {
                n.int_digits += 1;
            }
            digits_seen += 1;
            match value.checked_mul(10).and_then(|v| v.checked_add(u128::from(b - b'0'))) {
                Some(v) => value = v,
                None => overflow = true,
            }
            i += 1;
        } else if b == thou {
            if (first_group && (group == 0 || group > 3)) || (!first_group && group != 3) {
                return None;
            }
            first_group = false;
            n.thousands = true;
            group = 0;
            i += 1;
        } else {
            break;
        }
    }
    if n.thousands && group != 3 {
        return None;
    }
    if n.thousands && n.leading_zero {
        return None;
    }
    let int_len = i - start;
    if i < s.len() && s[i] == dec {
        i += 1;
        let fs = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        n.frac_digits = (i - fs) as u32;
        if n.frac_digits == 0 {
            return None;
        }
        n.has_dec = true;
    } else if int_len == 0 {
        return None;
    }
    if digits_seen == 0 && n.frac_digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') && !n.thousands && n.currency == 0 {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'-' || s[j] == b'+') {
            j += 1;
        }
        let es = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > es && j - es <= 4 {
            n.exp = true;
            i = j;
        }
    }
    if i < s.len() {
        let rest_start = skip_ws(s, i);
        let rest = &s[rest_start..];
        let (p, c, u) = match_suffix(rest)?;
        if (c != 0 && n.currency != 0) || (n.exp && (p || u != 0)) {
            return None;
        }
        // a space before '%' is fine, a space inside a code-less symbol too
        n.percent = p;
        if c != 0 {
            n.currency = c;
        }
        n.unit = u;
    }
    if !n.has_dec && !n.exp {
        n.int_value = if overflow || value > i128::MAX as u128 + u128::from(sign || n.paren) {
            None
        } else {
            let neg = n.paren || (sign && s[..start].contains(&b'-'));
            if neg {
                Some(0i128.wrapping_sub_unsigned(value))
            } else {
                i128::try_from(value).ok()
            }
        };
    }
    Some(n)
}

/// `inf`, `-infinity`, ...: DOUBLE only.
pub(crate) fn is_infinity(s: &[u8]) -> bool {
    let s = match s.first() {
        Some(b'-') | Some(b'+') => &s[1..],
        _ => s,
    };
    s.eq_ignore_ascii_case(b"inf") || s.eq_ignore_ascii_case(b"infinity")
}

/// Date formats, in tie-break preference order within a mirror pair.
/// `(strptime format, kind)`; kinds: 0 = ISO (cast by `TRY_CAST`), 1 = strptime.
pub(crate) const DATE_FORMATS: [&str; 25] = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%m.%d.%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d-%m-%y",
    "%m-%d-%y",
    "%d.%m.%y",
    "%m.%d.%y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%Y-%m",
    "%Y-Q%q",
];
/// Index of `%Y-%m` in [`DATE_FORMATS`].
pub(crate) const FMT_YM: usize = 23;
/// Index of the quarter format in [`DATE_FORMATS`].
pub(crate) const FMT_Q: usize = 24;

/// For a numeric-field format, its day-first/month-first mirror.
pub(crate) fn mirror(fmt: usize) -> Option<usize> {
    match fmt {
        3 => Some(4),
        4 => Some(3),
        5 => Some(6),
        6 => Some(5),
        7 => Some(8),
        8 => Some(7),
        9 => Some(10),
        10 => Some(9),
        11 => Some(12),
        12 => Some(11),
        13 => Some(14),
        14 => Some(13),
        _ => None,
    }
}

/// Number of time variants (index 0 = no time part).
pub(crate) const N_TIME_VARIANTS: usize = 37;

/// A time-of-day part: `sep` is `T` or space, `hms` 0 = H:M, 1 = H:M:S, 2 = with fraction,
/// `ampm` a trailing ` AM`/` PM`, `tz` 0 none, 1 `Z`, 2 numeric offset.
pub(crate) fn time_variant(sep_t: bool, ampm: bool, hms: usize, tz: usize) -> usize {
    1 + usize::from(sep_t) * 18 + usize::from(ampm) * 9 + hms * 3 + tz
}

/// The strptime suffix of a time variant (empty for 0).
pub(crate) fn time_variant_format(tv: usize) -> String {
    if tv == 0 {
        return String::new();
    }
    let v = tv - 1;
    let sep_t = v / 18 == 1;
    let ampm = (v % 18) / 9 == 1;
    let hms = (v % 9) / 3;
    let tz = v % 3;
    let mut f = String::from(if sep_t { "T" } else { " " });
    f.push_str(if ampm { "%I:%M" } else { "%H:%M" });
    if hms >= 1 {
        f.push_str(":%S");
    }
    if hms == 2 {
        f.push_str(".%f");
    }
    if ampm {
        f.push_str(" %p");
    }
    match tz {
        1 => f.push('Z'),
        2 => f.push_str("%z"),
        _ => {}
    }
    f
}

/// Whether a time variant carries a time zone.
pub(crate) fn time_variant_tz(tv: usize) -> bool {
    tv != 0 && !(tv - 1).is_multiple_of(3)
}

fn digits(s: &[u8], i: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut j = i;
    let mut v = 0u32;
    while j < s.len() && j - i < max && s[j].is_ascii_digit() {
        v = v * 10 + u32::from(s[j] - b'0');
        j += 1;
    }
    if j - i < min || (j < s.len() && s[j].is_ascii_digit()) {
        return None;
    }
    Some((v, j))
}

fn two_digits(s: &[u8], i: usize) -> Option<(u32, usize)> {
    match (s.get(i), s.get(i + 1)) {
        (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some((u32::from(a - b'0') * 10 + u32::from(b - b'0'), i + 2))
        }
        _ => None,
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

fn valid_ymd(y: u32, m: u32, d: u32) -> bool {
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

fn two_digit_year(y: u32) -> u32 {
    // strptime %y: 69-99 -> 19xx, 00-68 -> 20xx (POSIX); only leap years matter here
    if y >= 69 {
        1900 + y
    } else {
        2000 + y
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Month from a name: `(month, abbreviated?, full?)`.
fn month_name(s: &[u8]) -> Option<(u32, bool, bool)> {
    for (i, m) in MONTHS.iter().enumerate() {
        let full = s.eq_ignore_ascii_case(m.as_bytes());
        let abbr = s.len() == 3 && s.eq_ignore_ascii_case(&m.as_bytes()[..3]);
        if full || abbr {
            return Some((i as u32 + 1, abbr, full));
        }
    }
    None
}

/// Result of reading a temporal value: which date formats fit and which time variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Temporal {
    /// Bit `i` set when `DATE_FORMATS[i]` fits the date part.
    pub date_mask: u32,
    /// Time variant of the rest (0 = date only).
    pub tv: usize,
}

/// Parses the time part starting at `s[i]` (after the separator). `iso` allows
/// up to nine fraction digits and a zone; otherwise at most six and no zone.
fn parse_time_part(s: &[u8], mut i: usize, iso: bool) -> Option<(bool, usize, usize)> {
    let (h, j) = digits(s, i, 1, 2)?;
    i = j;
    if s.get(i) != Some(&b':') {
        return None;
    }
    let (mi, j) = digits(s, i + 1, 2, 2)?;
    i = j;
    if mi > 59 {
        return None;
    }
    let mut hms = 0;
    if s.get(i) == Some(&b':') {
        let (sec, j) = digits(s, i + 1, 2, 2)?;
        if sec > 60 {
            return None;
        }
        i = j;
        hms = 1;
        if s.get(i) == Some(&b'.') {
            let fs = i + 1;
            let mut j = fs;
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            let nd = j - fs;
            if nd == 0 || nd > if iso { 9 } else { 6 } {
                return None;
            }
            i = j;
            hms = 2;
        }
    }
    let mut ampm = false;
    if !iso && i + 3 == s.len() && s[i] == b' ' {
        let p = &s[i + 1..];
        if p.eq_ignore_ascii_case(b"am") || p.eq_ignore_ascii_case(b"pm") {
            ampm = true;
            i = s.len();
        }
    }
    if ampm {
        if !(1..=12).contains(&h) {
            return None;
        }
    } else if h > 23 {
        return None;
    }
    let mut tz = 0;
    if iso && i < s.len() {
        if s[i] == b'Z' && i + 1 == s.len() {
            tz = 1;
            i += 1;
        } else if s[i] == b'+' || s[i] == b'-' {
            let (oh, j) = two_digits(s, i + 1)?;
            let mut j = j;
            if j < s.len() {
                if s[j] == b':' {
                    j += 1;
                }
                let (om, k) = two_digits(s, j)?;
                if om > 59 {
                    return None;
                }
                j = k;
            }
            if oh > 23 {
                return None;
            }
            tz = 2;
            i = j;
        }
    }
    if i != s.len() {
        return None;
    }
    Some((ampm, hms, tz))
}

/// Reads `s` as a date or timestamp; `None` when no known format fits.
pub(crate) fn parse_temporal(s: &[u8]) -> Option<Temporal> {
    if s.len() < 6 || s.len() > 40 {
        return None;
    }
    let b0 = s[0];
    if b0.is_ascii_digit() {
        parse_numeric_date(s)
    } else if b0.is_ascii_alphabetic() {
        parse_month_first_name(s)
    } else {
        None
    }
}

fn finish_time(s: &[u8], i: usize, iso: bool, mask: u32) -> Option<Temporal> {
    if mask == 0 {
        return None;
    }
    if i == s.len() {
        return Some(Temporal { date_mask: mask, tv: 0 });
    }
    let sep_t = s[i] == b'T';
    if !(sep_t && iso) && s[i] != b' ' {
        return None;
    }
    let (ampm, hms, tz) = parse_time_part(s, i + 1, iso)?;
    Some(Temporal { date_mask: mask, tv: time_variant(sep_t, ampm, hms, tz) })
}

fn parse_numeric_date(s: &[u8]) -> Option<Temporal> {
    let (a, i) = digits(s, 0, 1, 4)?;
    let alen = i;
    let sep = *s.get(i)?;
    if alen == 4 {
        // year first: Y-m-d, Y/m/d, Y.m.d, Y-m, Y-Qn
        if sep == b'-' && (s.get(i + 1) == Some(&b'Q') || s.get(i + 1) == Some(&b'q')) {
            let q = *s.get(i + 2)?;
            if s.len() == i + 3 && (b'1'..=b'4').contains(&q) {
                return Some(Temporal { date_mask: 1 << FMT_Q, tv: 0 });
            }
            return None;
        }
        let (m, j) = digits(s, i + 1, 1, 2)?;
        if j == s.len() {
            if sep == b'-' && (1..=12).contains(&m) {
                return Some(Temporal { date_mask: 1 << FMT_YM, tv: 0 });
            }
            return None;
        }
        if s[j] != sep {
            return None;
        }
        let (d, k) = digits(s, j + 1, 1, 2)?;
        if !valid_ymd(a, m, d) {
            return None;
        }
        let (fmt, iso) = match sep {
            b'-' => (0, true),
            b'/' => (1, false),
            b'.' => (2, false),
            _ => return None,
        };
        return finish_time(s, k, iso, 1 << fmt);
    }
    if alen > 2 {
        return None;
    }
    if sep == b'-' || sep == b' ' {
        // 10-Jan-2012, 10 Jan 2012
        if let Some(&c) = s.get(i + 1) {
            if c.is_ascii_alphabetic() {
                return parse_day_month_name(s, a, i, sep);
            }
        }
    }
    if !matches!(sep, b'/' | b'-' | b'.') {
        return None;
    }
    let (b, j) = digits(s, i + 1, 1, 2)?;
    if s.get(j) != Some(&sep) {
        return None;
    }
    let (y, k) = digits(s, j + 1, 2, 4)?;
    let ylen = k - j - 1;
    let (year, two) = match ylen {
        4 => (y, false),
        2 => (two_digit_year(y), true),
        _ => return None,
    };
    let (md, dm) = match (sep, two) {
        (b'/', false) => (3, 4),
        (b'-', false) => (6, 5),
        (b'.', false) => (8, 7),
        (b'/', true) => (9, 10),
        (b'-', true) => (12, 11),
        (b'.', true) => (14, 13),
        _ => return None,
    };
    let mut mask = 0u32;
    if valid_ymd(year, a, b) {
        mask |= 1 << md;
    }
    if valid_ymd(year, b, a) {
        mask |= 1 << dm;
    }
    finish_time(s, k, false, mask)
}

fn parse_day_month_name(s: &[u8], day: u32, i: usize, sep: u8) -> Option<Temporal> {
    let ms = i + 1;
    let mut j = ms;
    while j < s.len() && s[j].is_ascii_alphabetic() {
        j += 1;
    }
    let (m, abbr, full) = month_name(&s[ms..j])?;
    if s.get(j) != Some(&sep) {
        return None;
    }
    let (y, k) = digits(s, j + 1, 2, 4)?;
    let ylen = k - j - 1;
    let mut mask = 0u32;
    match (sep, ylen) {
        (b'-', 4) if abbr && valid_ymd(y, m, day) => mask |= 1 << 15,
        (b'-', 2) if abbr && valid_ymd(two_digit_year(y), m, day) => mask |= 1 << 16,
        (b' ', 4) if valid_ymd(y, m, day) => {
            if abbr {
                mask |= 1 << 17;
            }
            if full {
                mask |= 1 << 18;
            }
        }
        _ => return None,
    }
    finish_time(s, k, false, mask)
}

fn parse_month_first_name(s: &[u8]) -> Option<Temporal> {
    // Jan 10, 2012 / January 10 2012
    let mut j = 0;
    while j < s.len() && s[j].is_ascii_alphabetic() {
        j += 1;
    }
    let (m, abbr, full) = month_name(&s[..j])?;
    if s.get(j) != Some(&b' ') {
        return None;
    }
    let (d, k) = digits(s, j + 1, 1, 2)?;
    let mut k = k;
    let comma = s.get(k) == Some(&b',');
    if comma {
        k += 1;
    }
    if s.get(k) != Some(&b' ') {
        return None;
    }
    let (y, e) = digits(s, k + 1, 4, 4)?;
    if !valid_ymd(y, m, d) {
        return None;
    }
    let mut mask = 0u32;
    if abbr {
        mask |= 1 << if comma { 19 } else { 21 };
    }
    if full {
        mask |= 1 << if comma { 20 } else { 22 };
    }
    finish_time(s, e, false, mask)
}

/// `HH:MM[:SS[.f]]`, 24-hour: a TIME value.
pub(crate) fn is_time(s: &[u8]) -> bool {
    s.len() >= 4 && s.len() <= 18 && matches!(parse_time_part(s, 0, false), Some((false, _, 0)))
}

const INTERVAL_UNITS: [&str; 9] =
    ["year", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond"];

/// `2 days`, `1 hour 30 minutes`, `3 days 04:00:00`: what DuckDB casts to INTERVAL.
pub(crate) fn is_interval(s: &[u8]) -> bool {
    if s.len() > 100 {
        return false;
    }
    let mut i = 0;
    let mut pairs = 0;
    while i < s.len() {
        let mut j = i;
        if j < s.len() && s[j] == b'-' {
            j += 1;
        }
        let ds = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j == ds {
            return false;
        }
        if j < s.len() && s[j] == b':' {
            // trailing clock part after at least one pair
            return pairs > 0 && is_time(&s[i..]);
        }
        while j < s.len() && s[j] == b' ' {
            j += 1;
        }
        let ws = j;
        while j < s.len() && s[j].is_ascii_alphabetic() {
            j += 1;
        }
        let w = &s[ws..j];
        let w = if w.len() > 1 && (w[w.len() - 1] == b's' || w[w.len() - 1] == b'S') { &w[..w.len() - 1] } else { w };
        if !INTERVAL_UNITS.iter().any(|u| w.eq_ignore_ascii_case(u.as_bytes())) {
            return false;
        }
        pairs += 1;
        while j < s.len() && s[j] == b' ' {
            j += 1;
        }
        i = j;
    }
    pairs > 0
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// `8-4-4-4-12` hexadecimal UUID.
pub(crate) fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { is_hex(b) })
}

/// A complete JSON object or array (RFC 8259), validated without allocation;
/// nesting deeper than 1024 is rejected.
pub(crate) fn is_json(s: &[u8]) -> bool {
    if !matches!(s.first(), Some(b'{') | Some(b'[')) {
        return false;
    }
    let mut stack = [0u64; 16]; // bit = 1 for object
    let mut depth = 0usize;
    let mut i = 0;
    // states: expect value, after value
    let mut expect_value = true;
    let mut expect_key = false;
    let n = s.len();
    let skip = |i: &mut usize| {
        while *i < n && matches!(s[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    };
    let in_object =
        |stack: &[u64; 16], depth: usize| depth > 0 && (stack[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1 == 1;
    loop {
        skip(&mut i);
        if i >= n {
            return false;
        }
        if expect_key {
            match s[i] {
                b'"' => {
                    i = match json_string(s, i) {
                        Some(j) => j,
                        None => return false,
                    };
                    skip(&mut i);
                    if i >= n || s[i] != b':' {
                        return false;
                    }
                    i += 1;
                    expect_key = false;
                    expect_value = true;
                    continue;
                }
                b'}' if depth > 0 => {
                    // empty object only directly after '{'
                    if s[..i].iter().rev().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) != Some(&b'{') {
                        return false;
                    }
                    depth -= 1;
                    i += 1;
                    expect_key = false;
                    expect_value = false;
                }
                _ => return false,
            }
        } else if expect_value {
            match s[i] {
                b'{' | b'[' => {
                    if depth >= 1024 {
                        return false;
                    }
                    let obj = s[i] == b'{';
                    let (w, bit) = (depth / 64, depth % 64);
                    if obj {
                        stack[w] |= 1 << bit;
                    } else {
                        stack[w] &= !(1 << bit);
                    }
                    depth += 1;
                    i += 1;
                    if obj {
                        expect_key = true;
                        expect_value = false;
                    } else {
                        skip(&mut i);
                        if i < n && s[i] == b']' {
                            depth -= 1;
                            i += 1;
                            expect_value = false;
                        }
                    }
                }
                b'"' => {
                    i = match json_string(s, i) {
                        Some(j) => j,
                        None => return false,
                    };
                    expect_value = false;
                }
                b't' if s[i..].starts_with(b"true") => {
                    i += 4;
                    expect_value = false;
                }
                b'f' if s[i..].starts_with(b"false") => {
                    i += 5;
                    expect_value = false;
                }
                b'n' if s[i..].starts_with(b"null") => {
                    i += 4;
                    expect_value = false;
                }
                b'-' | b'0'..=b'9' => {
                    i = match json_number(s, i) {
                        Some(j) => j,
                        None => return false,
                    };
                    expect_value = false;
                }
                _ => return false,
            }
        } else {
            // after a value
            if depth == 0 {
                return i >= n;
            }
            let obj = in_object(&stack, depth);
            match (s[i], obj) {
                (b',', true) => {
                    expect_key = true;
                    i += 1;
                    skip(&mut i);
                    if i < n && s[i] == b'}' {
                        return false;
                    }
                }
                (b',', false) => {
                    expect_value = true;
                    i += 1;
                }
                (b'}', true) | (b']', false) => {
                    depth -= 1;
                    i += 1;
                }
                _ => return false,
            }
        }
        if depth == 0 && !expect_value && !expect_key {
            skip(&mut i);
            return i >= n;
        }
    }
}

fn json_string(s: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                let e = *s.get(i + 1)?;
                if e == b'u' {
                    if s.len() < i + 6 || !s[i + 2..i + 6].iter().all(|b| is_hex(*b)) {
                        return None;
                    }
                    i += 6;
                } else if matches!(e, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') {
                    i += 2;
                } else {
                    return None;
                }
            }
            0..=0x1f => return None,
            _ => i += 1,
        }
    }
    None
}

fn json_number(s: &[u8], mut i: usize) -> Option<usize> {
    if s[i] == b'-' {
        i += 1;
    }
    let ds = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    if i == ds || (s[ds] == b'0' && i - ds > 1) {
        return None;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        let fs = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == fs {
            return None;
        }
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return None;
        }
    }
    Some(i)
}

/// Semantic pattern bits computed per value.
pub(crate) mod sem {
    /// `user@example.com`
    pub const EMAIL: u32 = 1 << 0;
    /// `https://...`, `www....`
    pub const URL: u32 = 1 << 1;
    /// dotted quad
    pub const IPV4: u32 = 1 << 2;
    /// RFC 4291 text form
    pub const IPV6: u32 = 1 << 3;
    /// 7-15 digits with phone punctuation
    pub const PHONE: u32 = 1 << 4;
    /// ZIP+4, UK, Canadian postcodes
    pub const POSTAL: u32 = 1 << 5;
    /// ISO 3166-1 alpha-2
    pub const COUNTRY: u32 = 1 << 6;
    /// ISO 4217 code
    pub const CURRENCY_CODE: u32 = 1 << 7;
    /// 13-19 digits passing Luhn
    pub const CARD: u32 = 1 << 8;
    /// IBAN passing MOD 97-10
    pub const IBAN: u32 = 1 << 9;
    /// hexadecimal hash / id of 16+ chars
    pub const HEX: u32 = 1 << 10;
    /// Number of bits.
    pub const N: usize = 11;
    /// Names, index = bit position.
    pub const NAMES: [&str; N] = [
        "email",
        "url",
        "ipv4",
        "ipv6",
        "phone",
        "postal_code",
        "country_code",
        "currency_code",
        "credit_card",
        "iban",
        "hash",
    ];
}

const COUNTRIES: &[u8] = b"ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

/// [`COUNTRIES`] as a bit table: bit `b` of entry `a` is set when letters `a`,`b` are a code.
const COUNTRY_BITS: [u32; 26] = {
    let mut t = [0u32; 26];
    let mut i = 0;
    while i + 1 < COUNTRIES.len() {
        t[(COUNTRIES[i] - b'A') as usize] |= 1 << (COUNTRIES[i + 1] - b'A');
        i += 2;
    }
    t
};

fn luhn(digits: impl Iterator<Item = u8> + Clone) -> bool {
    let n = digits.clone().count();
    let mut sum = 0u32;
    for (i, d) in digits.enumerate() {
        let mut v = u32::from(d);
        if (n - i).is_multiple_of(2) {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn iban_ok(s: &[u8]) -> bool {
    // letters/digits with optional single spaces; MOD 97-10 over rearranged string
    let mut n = 0usize;
    for &b in s {
        if b == b' ' {
            continue;
        }
        if !(b.is_ascii_digit() || b.is_ascii_uppercase()) {
            return false;
        }
        n += 1;
    }
    if !(15..=34).contains(&n) {
        return false;
    }
    let chars = || s.iter().copied().filter(|b| *b != b' ');
    let mut it = chars();
    let head: [u8; 4] =
        [it.next().unwrap_or(0), it.next().unwrap_or(0), it.next().unwrap_or(0), it.next().unwrap_or(0)];
    if !(head[0].is_ascii_uppercase() && head[1].is_ascii_uppercase()) {
        return false;
    }
    if !(head[2].is_ascii_digit() && head[3].is_ascii_digit()) {
        return false;
    }
    let mut rem = 0u32;
    let mut feed = |b: u8| {
        if b.is_ascii_digit() {
            rem = (rem * 10 + u32::from(b - b'0')) % 97;
        } else {
            let v = u32::from(b - b'A') + 10;
            rem = (rem * 100 + v) % 97;
        }
    };
    for b in chars().skip(4) {
        feed(b);
    }
    for b in head {
        feed(b);
    }
    rem == 1
}

fn is_email(s: &[u8]) -> bool {
    let Some(at) = s.iter().position(|b| *b == b'@') else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.len() < 3 {
        return false;
    }
    if !local.iter().all(|b| b.is_ascii_alphanumeric() || b"._%+-'".contains(b)) {
        return false;
    }
    let Some(dot) = domain.iter().rposition(|b| *b == b'.') else {
        return false;
    };
    let tld = &domain[dot + 1..];
    dot > 0
        && tld.len() >= 2
        && tld.iter().all(|b| b.is_ascii_alphabetic())
        && domain.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-')
        && !domain.windows(2).any(|w| w == b"..")
}

fn is_url(s: &[u8]) -> bool {
    let lower_starts = |p: &[u8]| s.len() > p.len() && s[..p.len()].eq_ignore_ascii_case(p);
    let rest = if lower_starts(b"http://") {
        &s[7..]
    } else if lower_starts(b"https://") {
        &s[8..]
    } else if lower_starts(b"ftp://") {
        &s[6..]
    } else if lower_starts(b"www.") {
        &s[4..]
    } else {
        return false;
    };
    rest.len() >= 3 && rest.contains(&b'.') && !rest.iter().any(|b| *b <= b' ' || *b == 0x7f)
}

fn is_ipv4(s: &[u8]) -> bool {
    let mut parts = 0;
    let mut i = 0;
    while i <= s.len() {
        let Some((v, j)) = digits(s, i, 1, 3) else {
            return false;
        };
        if v > 255 || (j - i > 1 && s[i] == b'0') {
            return false;
        }
        parts += 1;
        if j == s.len() {
            return parts == 4;
        }
        if s[j] != b'.' || parts == 4 {
            return false;
        }
        i = j + 1;
    }
    false
}

fn is_ipv6(s: &[u8]) -> bool {
    if s.len() < 2 || s.len() > 39 {
        return false;
    }
    let mut groups = 0;
    let mut double = false;
    let mut i = 0;
    if s.starts_with(b"::") {
        double = true;
        i = 2;
        if i == s.len() {
            return true;
        }
    }
    loop {
        let gs = i;
        while i < s.len() && is_hex(s[i]) && i - gs < 4 {
            i += 1;
        }
        if i == gs {
            return false;
        }
        groups += 1;
        if i == s.len() {
            break;
        }
        if s[i] != b':' {
            return false;
        }
        i += 1;
        if i < s.len() && s[i] == b':' {
            if double {
                return false;
            }
            double = true;
            i += 1;
            if i == s.len() {
                break;
            }
        } else if i == s.len() {
            return false;
        }
    }
    if double {
        groups < 8
    } else {
        groups == 8
    }
}

fn is_phone(s: &[u8]) -> bool {
    if s.len() < 7 || s.len() > 25 {
        return false;
    }
    let mut nd = 0;
    let mut punct = false;
    for (i, &b) in s.iter().enumerate() {
        match b {
            b'0'..=b'9' => nd += 1,
            b'+' if i == 0 => punct = true,
            b' ' | b'-' | b'.' | b'(' | b')' => punct = true,
            _ => return false,
        }
    }
    punct && (7..=15).contains(&nd)
}

fn is_postal(s: &[u8]) -> bool {
    let d = |b: u8| b.is_ascii_digit();
    let a = |b: u8| b.is_ascii_uppercase();
    match s.len() {
        // ZIP+4
        10 if s[5] == b'-' => s[..5].iter().all(|b| d(*b)) && s[6..].iter().all(|b| d(*b)),
        // Canada A1A 1A1
        7 if s[3] == b' ' && a(s[0]) && d(s[1]) && a(s[2]) && d(s[4]) && a(s[5]) && d(s[6]) => true,
        // UK outward (2-4) space inward (digit letter letter)
        6..=8 => {
            let Some(sp) = s.iter().position(|b| *b == b' ') else {
                return false;
            };
            let (out, inw) = (&s[..sp], &s[sp + 1..]);
            inw.len() == 3
                && d(inw[0])
                && a(inw[1])
                && a(inw[2])
                && (2..=4).contains(&out.len())
                && a(out[0])
                && out.iter().all(|b| a(*b) || d(*b))
                && out.iter().any(|b| d(*b))
        }
        _ => false,
    }
}

/// Semantic bits of one value (see [`sem`]).
pub(crate) fn semantic_bits(s: &[u8]) -> u32 {
    let n = s.len();
    if n == 0 || n > 120 {
        return 0;
    }
    let b0 = s[0];
    let mut bits = 0;
    if n == 2 && s[0].is_ascii_uppercase() && s[1].is_ascii_uppercase() {
        if (COUNTRY_BITS[usize::from(s[0] - b'A')] >> (s[1] - b'A')) & 1 == 1 {
            bits |= sem::COUNTRY;
        }
        return bits;
    }
    if n == 3 && s.iter().all(|b| b.is_ascii_uppercase()) {
        if CURRENCIES[5..].iter().any(|c| c.as_bytes() == s) {
            bits |= sem::CURRENCY_CODE;
        }
        return bits;
    }
    if s.contains(&b'@') {
        if is_email(s) {
            bits |= sem::EMAIL;
        }
        return bits;
    }
    if b0.is_ascii_alphabetic() && is_url(s) {
        return sem::URL;
    }
    if b0.is_ascii_digit() && n <= 15 && is_ipv4(s) {
        return sem::IPV4;
    }
    if s.contains(&b':') && is_ipv6(s) {
        return sem::IPV6;
    }
    if (b0.is_ascii_digit() || b0 == b'+' || b0 == b'(') && is_phone(s) {
        bits |= sem::PHONE;
    }
    if (b0.is_ascii_digit() || b0.is_ascii_uppercase()) && is_postal(s) {
        bits |= sem::POSTAL;
    }
    if b0.is_ascii_digit() && (13..=23).contains(&n) {
        // card numbers: digits in groups separated by one space or dash
        if s.iter().all(|b| b.is_ascii_digit() || *b == b' ' || *b == b'-') {
            let nd = s.iter().filter(|b| b.is_ascii_digit()).count();
            let it = s.iter().filter(|b| b.is_ascii_digit()).map(|b| b - b'0');
            if (13..=19).contains(&nd) && luhn(it) {
                bits |= sem::CARD;
            }
        }
    }
    if b0.is_ascii_uppercase() && (15..=42).contains(&n) && iban_ok(s) {
        bits |= sem::IBAN;
    }
    if (16..=128).contains(&n)
        && s.iter().all(|b| is_hex(*b))
        && s.iter().any(|b| b.is_ascii_alphabetic())
        && s.iter().any(|b| b.is_ascii_digit())
    {
        bits |= sem::HEX;
    }
    bits
}
