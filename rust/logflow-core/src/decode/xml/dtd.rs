//! The document type declaration: its syntax checked, and its internal subset read for what
//! a non-validating reader must honour, the general entities. Nothing outside the document
//! is ever read: external entities and the external subset are noted, never fetched.
//!
//! Entities are expanded lazily and with limits ([`Dtd::expand`]): an entity whose
//! replacement text would pass [`MAX_EXPANSION`] bytes (the "billion laughs" of nested
//! references, or one large entity referenced many times) is refused with a typed error, so
//! memory stays bounded whatever the declarations say.

use std::collections::HashMap;

use super::wf::{self, is_space, Ref};

/// Most bytes one entity reference may expand to, nested references included.
pub const MAX_EXPANSION: usize = 1 << 20;

/// Deepest nesting of entity references followed.
const MAX_NESTING: usize = 64;

/// A general entity declared in the internal subset.
#[derive(Debug, Clone)]
pub struct Entity {
    /// The replacement text of an internal entity (character references expanded, entity
    /// references kept to be expanded where it is used); `None` for an external one.
    pub value: Option<Vec<u8>>,
    /// Declared with `NDATA`: an unparsed entity, which text may not reference.
    pub unparsed: bool,
    /// Declared inside the external subset's reach (after a parameter entity reference
    /// that was not read): a non-validating reader does not use it.
    pub external: bool,
}

/// What a document type declaration says.
#[derive(Debug, Clone, Default)]
pub struct Dtd {
    /// The root element's name.
    pub root: Vec<u8>,
    /// General entities by name (the first declaration of a name wins).
    pub entities: HashMap<Vec<u8>, Entity>,
    /// The declaration names an external subset, or its internal subset references
    /// parameter entities: entities may be declared where this reader does not look, so an
    /// undeclared one is not an error.
    pub has_external: bool,
    /// The document is XML 1.1: character references to its restricted characters are
    /// allowed.
    pub v11: bool,
}

/// A syntax error in the declaration: offset (in the declaration's body) and what.
pub type DtdError = (usize, &'static str);

type Parsed<T> = Result<T, DtdError>;

/// A cursor over the declaration's body.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.b.get(self.i..).unwrap_or_default()
    }

    fn err<T>(&self, what: &'static str) -> Parsed<T> {
        Err((self.i, what))
    }

    /// Skips white space; returns whether there was any.
    fn ws(&mut self) -> bool {
        let n = self.rest().iter().take_while(|c| is_space(**c)).count();
        self.i += n;
        n > 0
    }

    fn need_ws(&mut self, what: &'static str) -> Parsed<()> {
        if self.ws() {
            Ok(())
        } else {
            self.err(what)
        }
    }

    fn eat(&mut self, s: &[u8]) -> bool {
        if self.rest().starts_with(s) {
            self.i += s.len();
            true
        } else {
            false
        }
    }

    /// A name (up to white space or a delimiter), checked.
    fn name(&mut self) -> Parsed<&'a [u8]> {
        let rest = self.rest();
        let len = rest
            .iter()
            .position(|&c| {
                is_space(c)
                    || matches!(
                        c,
                        b'>' | b'['
                            | b']'
                            | b'('
                            | b')'
                            | b'|'
                            | b','
                            | b'?'
                            | b'*'
                            | b'+'
                            | b'"'
                            | b'\''
                            | b'%'
                            | b';'
                            | b'<'
                            | b'='
                    )
            })
            .unwrap_or(rest.len());
        let name = rest.get(..len).unwrap_or_default();
        if !wf::is_name(name) {
            return self.err("a name expected");
        }
        self.i += len;
        Ok(name)
    }

    /// A quoted literal; returns its content.
    fn literal(&mut self) -> Parsed<&'a [u8]> {
        let q = match self.peek() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return self.err("a quoted literal expected"),
        };
        let rest = self.b.get(self.i + 1..).unwrap_or_default();
        match memchr::memchr(q, rest) {
            Some(n) => {
                self.i += n + 2;
                Ok(rest.get(..n).unwrap_or_default())
            }
            None => self.err("an unterminated literal"),
        }
    }
}

/// Parses the body of `<!DOCTYPE ...>` (between `<!DOCTYPE` and the final `>`), with
/// `standalone` from the XML declaration; `v11` for an XML 1.1 document.
pub fn parse(body: &[u8], standalone: bool, v11: bool) -> Parsed<Dtd> {
    let mut c = Cur { b: body, i: 0 };
    let mut dtd = Dtd {
        v11,
        ..Dtd::default()
    };
    c.need_ws("white space expected after <!DOCTYPE")?;
    dtd.root = c.name()?.to_vec();
    let had_ws = c.ws();
    if c.rest().starts_with(b"SYSTEM") || c.rest().starts_with(b"PUBLIC") {
        if !had_ws {
            return c.err("white space expected before the external identifier");
        }
        external_id(&mut c, false)?;
        dtd.has_external = true;
        c.ws();
    }
    if c.peek() == Some(b'[') {
        c.i += 1;
        internal_subset(&mut c, &mut dtd)?;
        c.ws();
    }
    if c.i != body.len() {
        return c.err("unexpected text in the document type declaration");
    }
    if standalone {
        dtd.has_external = false;
    }
    Ok(dtd)
}

/// `SYSTEM "uri"` or `PUBLIC "id" "uri"` (the system literal is optional when
/// `public_only` allows a bare public identifier, as in notation declarations).
fn external_id(c: &mut Cur<'_>, public_only: bool) -> Parsed<()> {
    if c.eat(b"SYSTEM") {
        c.need_ws("white space expected after SYSTEM")?;
        c.literal()?;
        Ok(())
    } else if c.eat(b"PUBLIC") {
        c.need_ws("white space expected after PUBLIC")?;
        let start = c.i;
        let id = c.literal()?;
        if !id.iter().all(|&b| is_pubid_char(b)) {
            return Err((start, "a character not allowed in a public identifier"));
        }
        let ws = c.ws();
        if matches!(c.peek(), Some(b'"' | b'\'')) {
            if !ws {
                return c.err("white space expected before the system literal");
            }
            c.literal()?;
        } else if !public_only {
            return c.err("a system literal expected after the public identifier");
        } else if ws {
            c.i -= 1;
        }
        Ok(())
    } else {
        c.err("SYSTEM or PUBLIC expected")
    }
}

fn is_pubid_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" \r\n-'()+,./:=?;!*#@$_%".contains(&b)
}

/// The internal subset, up to and including its `]`.
fn internal_subset(c: &mut Cur<'_>, dtd: &mut Dtd) -> Parsed<()> {
    // Declarations after a parameter entity reference this reader did not follow may
    // depend on it: they are noted as external.
    let mut after_pe = false;
    loop {
        c.ws();
        match c.peek() {
            None => return c.err("the internal subset is never closed"),
            Some(b']') => {
                c.i += 1;
                return Ok(());
            }
            Some(b'%') => {
                c.i += 1;
                c.name()?;
                if c.peek() != Some(b';') {
                    return c.err("';' expected after a parameter entity reference");
                }
                c.i += 1;
                dtd.has_external = true;
                after_pe = true;
            }
            Some(b'<') => {
                if c.eat(b"<!--") {
                    comment(c)?;
                } else if c.eat(b"<?") {
                    pi(c)?;
                } else if c.eat(b"<!ELEMENT") {
                    element_decl(c)?;
                } else if c.eat(b"<!ATTLIST") {
                    attlist_decl(c, dtd)?;
                } else if c.eat(b"<!ENTITY") {
                    entity_decl(c, dtd, after_pe)?;
                } else if c.eat(b"<!NOTATION") {
                    notation_decl(c)?;
                } else {
                    return c.err("a markup declaration expected in the internal subset");
                }
            }
            Some(_) => return c.err("a markup declaration expected in the internal subset"),
        }
    }
}

/// After `<!--`: the comment, checked (no `--` inside, nor `-` last).
fn comment(c: &mut Cur<'_>) -> Parsed<()> {
    let rest = c.rest();
    match memchr::memmem::find(rest, b"--") {
        Some(n) if rest.get(n + 2) == Some(&b'>') => {
            check_chars(c, rest.get(..n).unwrap_or_default())?;
            c.i += n + 3;
            Ok(())
        }
        Some(n) => Err((c.i + n, "'--' inside a comment")),
        None => c.err("an unterminated comment"),
    }
}

/// After `<?`: a processing instruction, checked (a target that is not `xml`).
pub fn pi_ok(body: &[u8]) -> Result<(), &'static str> {
    let len = body.iter().position(|&c| is_space(c)).unwrap_or(body.len());
    let target = body.get(..len).unwrap_or_default();
    if !wf::is_name(target) {
        return Err("a processing instruction's target must be a name");
    }
    if target.eq_ignore_ascii_case(b"xml") {
        return Err("a processing instruction may not be named xml (the XML declaration belongs at the very start)");
    }
    Ok(())
}

fn pi(c: &mut Cur<'_>) -> Parsed<()> {
    let rest = c.rest();
    let Some(n) = memchr::memmem::find(rest, b"?>") else {
        return c.err("an unterminated processing instruction");
    };
    let body = rest.get(..n).unwrap_or_default();
    if let Err(what) = pi_ok(body) {
        return c.err(what);
    }
    check_chars(c, body)?;
    c.i += n + 2;
    Ok(())
}

fn check_chars(c: &Cur<'_>, b: &[u8]) -> Parsed<()> {
    let mut bad = Vec::new();
    wf::bad_chars(b, 0, false, &mut bad);
    match bad.first() {
        Some(_) => c.err("a character XML does not allow"),
        None => Ok(()),
    }
}

/// After `<!ELEMENT`: `S Name S contentspec S? >`.
fn element_decl(c: &mut Cur<'_>) -> Parsed<()> {
    c.need_ws("white space expected after <!ELEMENT")?;
    c.name()?;
    c.need_ws("white space expected after the element name")?;
    if !(c.eat(b"EMPTY") || c.eat(b"ANY")) {
        if c.peek() != Some(b'(') {
            return c.err("EMPTY, ANY or a content model expected");
        }
        c.i += 1;
        c.ws();
        if c.eat(b"#PCDATA") {
            mixed(c)?;
        } else {
            group(c)?;
        }
    }
    c.ws();
    if c.peek() != Some(b'>') {
        return c.err("'>' expected at the end of an element declaration");
    }
    c.i += 1;
    Ok(())
}

/// After `(#PCDATA`: `(S? '|' S? Name)* S? ')*'` or `S? ')'`.
fn mixed(c: &mut Cur<'_>) -> Parsed<()> {
    let mut names = 0;
    loop {
        c.ws();
        match c.peek() {
            Some(b'|') => {
                c.i += 1;
                c.ws();
                c.name()?;
                names += 1;
            }
            Some(b')') => {
                c.i += 1;
                if c.peek() == Some(b'*') {
                    c.i += 1;
                } else if names > 0 {
                    return c.err("a mixed content model with names must end with ')*'");
                }
                return Ok(());
            }
            _ => return c.err("'|' or ')' expected in a mixed content model"),
        }
    }
}

/// After a `(` of element content: `cp (S? sep S? cp)* S? ')' [?*+]`, one separator kind.
fn group(c: &mut Cur<'_>) -> Parsed<()> {
    let mut sep = None;
    loop {
        c.ws();
        if c.peek() == Some(b'(') {
            c.i += 1;
            group(c)?;
        } else {
            c.name()?;
            if let Some(b'?' | b'*' | b'+') = c.peek() {
                c.i += 1;
            }
        }
        c.ws();
        match c.peek() {
            Some(s @ (b',' | b'|')) => {
                if sep.is_some_and(|x| x != s) {
                    return c.err("',' and '|' mixed in one group of a content model");
                }
                sep = Some(s);
                c.i += 1;
            }
            Some(b')') => {
                c.i += 1;
                if let Some(b'?' | b'*' | b'+') = c.peek() {
                    c.i += 1;
                }
                return Ok(());
            }
            _ => return c.err("',', '|' or ')' expected in a content model"),
        }
    }
}

/// After `<!ATTLIST`: `S Name AttDef* S? >`.
fn attlist_decl(c: &mut Cur<'_>, dtd: &Dtd) -> Parsed<()> {
    c.need_ws("white space expected after <!ATTLIST")?;
    c.name()?;
    loop {
        let ws = c.ws();
        if c.peek() == Some(b'>') {
            c.i += 1;
            return Ok(());
        }
        if !ws {
            return c.err("white space expected before an attribute definition");
        }
        c.name()?;
        c.need_ws("white space expected after an attribute name")?;
        // The type.
        if c.eat(b"CDATA")
            || c.eat(b"IDREFS")
            || c.eat(b"IDREF")
            || c.eat(b"ID")
            || c.eat(b"ENTITY")
            || c.eat(b"ENTITIES")
            || c.eat(b"NMTOKENS")
            || c.eat(b"NMTOKEN")
        {
            if c.peek().is_some_and(|b| !is_space(b)) {
                return c.err("white space expected after an attribute type");
            }
        } else if c.eat(b"NOTATION") {
            c.need_ws("white space expected after NOTATION")?;
            if c.peek() != Some(b'(') {
                return c.err("'(' expected after NOTATION");
            }
            c.i += 1;
            enumeration(c, true)?;
        } else if c.peek() == Some(b'(') {
            c.i += 1;
            enumeration(c, false)?;
        } else {
            return c.err("an attribute type expected");
        }
        c.need_ws("white space expected before the attribute default")?;
        if c.eat(b"#REQUIRED") || c.eat(b"#IMPLIED") {
            continue;
        }
        if c.eat(b"#FIXED") {
            c.need_ws("white space expected after #FIXED")?;
        }
        let start = c.i;
        let value = c.literal()?;
        if let Err((at, what)) = check_att_value(value, dtd) {
            return Err((start + 1 + at, what));
        }
        if let Err((at, what)) = check_default_entities(value, dtd) {
            return Err((start + 1 + at, what));
        }
    }
}

/// After `(`: `S? token (S? '|' S? token)* S? ')'` (names for notations, name tokens
/// otherwise).
fn enumeration(c: &mut Cur<'_>, names: bool) -> Parsed<()> {
    loop {
        c.ws();
        let rest = c.rest();
        let len = rest
            .iter()
            .position(|&b| is_space(b) || b == b'|' || b == b')')
            .unwrap_or(rest.len());
        let token = rest.get(..len).unwrap_or_default();
        let ok = if names {
            wf::is_name(token)
        } else {
            wf::is_nmtoken(token)
        };
        if !ok {
            return c.err("a name token expected in an enumeration");
        }
        c.i += len;
        c.ws();
        match c.peek() {
            Some(b'|') => c.i += 1,
            Some(b')') => {
                c.i += 1;
                return Ok(());
            }
            _ => return c.err("'|' or ')' expected in an enumeration"),
        }
    }
}

/// An attribute value literal (content of the quotes): no `<`, references well formed.
pub fn check_att_value(v: &[u8], dtd: &Dtd) -> Result<(), (usize, &'static str)> {
    if let Some(i) = memchr::memchr(b'<', v) {
        return Err((i, "'<' in an attribute value"));
    }
    let mut p = 0;
    while let Some(k) = memchr::memchr(b'&', v.get(p..).unwrap_or_default()) {
        let at = p + k;
        let Some(n) = memchr::memchr(b';', v.get(at + 1..).unwrap_or_default()) else {
            return Err((at, "'&' that starts no reference"));
        };
        let body = v.get(at + 1..at + 1 + n).unwrap_or_default();
        match wf::reference(body, false) {
            None => return Err((at, "a malformed reference")),
            Some(Ref::Entity(name)) if wf::predefined(name).is_none() => {
                if let Some(e) = dtd.entities.get(name) {
                    if e.value.is_none() {
                        return Err((
                            at,
                            "a reference to an external entity in an attribute value",
                        ));
                    }
                }
            }
            Some(_) => {}
        }
        p = at + 1 + n + 1;
    }
    Ok(())
}

/// The entity references of an attribute default: each declared before it (unless
/// declarations may be outside the document) and expandable in an attribute value.
fn check_default_entities(v: &[u8], dtd: &Dtd) -> Result<(), (usize, &'static str)> {
    let mut p = 0;
    while let Some(k) = memchr::memchr(b'&', v.get(p..).unwrap_or_default()) {
        let at = p + k;
        let n = memchr::memchr(b';', v.get(at + 1..).unwrap_or_default()).unwrap_or(0);
        let body = v.get(at + 1..at + 1 + n).unwrap_or_default();
        if let Some(Ref::Entity(name)) = wf::reference(body, dtd.v11) {
            if wf::predefined(name).is_none() {
                let mut scratch = Vec::new();
                match dtd.expand(name, Context::Attribute, &mut scratch) {
                    Ok(()) | Err(ExpandError::TooLarge) => {}
                    Err(e) => return Err((at, e.what())),
                }
            }
        }
        p = at + 1 + n + 1;
    }
    Ok(())
}

/// After `<!ENTITY`: a general or parameter entity declaration.
fn entity_decl(c: &mut Cur<'_>, dtd: &mut Dtd, after_pe: bool) -> Parsed<()> {
    c.need_ws("white space expected after <!ENTITY")?;
    let parameter = if c.peek() == Some(b'%') {
        c.i += 1;
        c.need_ws("white space expected after '%' in an entity declaration")?;
        true
    } else {
        false
    };
    let name = c.name()?;
    c.need_ws("white space expected after the entity name")?;
    let mut entity = Entity {
        value: None,
        unparsed: false,
        external: after_pe,
    };
    if matches!(c.peek(), Some(b'"' | b'\'')) {
        let start = c.i + 1;
        let raw = c.literal()?;
        entity.value = Some(entity_value(raw, dtd.v11).map_err(|(at, what)| (start + at, what))?);
    } else {
        external_id(c, false)?;
        let ws = c.ws();
        if c.eat(b"NDATA") {
            if parameter {
                return c.err("a parameter entity cannot be unparsed (NDATA)");
            }
            if !ws {
                return c.err("white space expected before NDATA");
            }
            c.need_ws("white space expected after NDATA")?;
            c.name()?;
            entity.unparsed = true;
        }
    }
    c.ws();
    if c.peek() != Some(b'>') {
        return c.err("'>' expected at the end of an entity declaration");
    }
    c.i += 1;
    if !parameter {
        let predefined = wf::predefined(name);
        // The five predefined entities may be declared (to what they already mean): they
        // keep their meaning whatever the declaration says.
        if predefined.is_none() {
            dtd.entities.entry(name.to_vec()).or_insert(entity);
        }
    }
    Ok(())
}

/// The replacement text of an entity value literal: character references expanded, entity
/// references checked and kept. Parameter entity references are not allowed inside
/// declarations of the internal subset.
fn entity_value(raw: &[u8], v11: bool) -> Result<Vec<u8>, (usize, &'static str)> {
    if let Some(i) = memchr::memchr(b'%', raw) {
        return Err((
            i,
            "a parameter entity reference inside a declaration of the internal subset",
        ));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut p = 0;
    while let Some(k) = memchr::memchr(b'&', raw.get(p..).unwrap_or_default()) {
        let at = p + k;
        out.extend_from_slice(raw.get(p..at).unwrap_or_default());
        let Some(n) = memchr::memchr(b';', raw.get(at + 1..).unwrap_or_default()) else {
            return Err((at, "'&' that starts no reference"));
        };
        let body = raw.get(at + 1..at + 1 + n).unwrap_or_default();
        match wf::reference(body, v11) {
            None => return Err((at, "a malformed reference")),
            Some(Ref::Char(ch)) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            Some(Ref::Entity(_)) => {
                out.extend_from_slice(raw.get(at..at + n + 2).unwrap_or_default());
            }
        }
        p = at + 1 + n + 1;
    }
    out.extend_from_slice(raw.get(p..).unwrap_or_default());
    let mut bad = Vec::new();
    wf::bad_chars(raw, 0, v11, &mut bad);
    if let Some(&i) = bad.first() {
        return Err((i, "a character XML does not allow"));
    }
    Ok(out)
}

/// After `<!NOTATION`: `S Name S (ExternalID | PublicID) S? >`.
fn notation_decl(c: &mut Cur<'_>) -> Parsed<()> {
    c.need_ws("white space expected after <!NOTATION")?;
    c.name()?;
    c.need_ws("white space expected after the notation name")?;
    external_id(c, true)?;
    c.ws();
    if c.peek() != Some(b'>') {
        return c.err("'>' expected at the end of a notation declaration");
    }
    c.i += 1;
    Ok(())
}

/// Why an entity reference cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// Not declared (and no external declarations could declare it).
    Undeclared,
    /// Refers to itself, directly or through other entities.
    Recursive,
    /// An unparsed (`NDATA`) entity, which text may not reference.
    Unparsed,
    /// An external entity in an attribute value.
    ExternalInAttribute,
    /// Markup (`<`) in an entity referenced from an attribute value.
    MarkupInAttribute,
    /// The replacement text is not well-formed content (tags that do not balance).
    Malformed,
    /// Expands past [`MAX_EXPANSION`] bytes, or nests references too deeply.
    TooLarge,
}

impl ExpandError {
    /// In words.
    pub fn what(&self) -> &'static str {
        match self {
            ExpandError::Undeclared => "a reference to an undeclared entity",
            ExpandError::Recursive => "an entity that refers to itself",
            ExpandError::Unparsed => "a reference to an unparsed (NDATA) entity",
            ExpandError::ExternalInAttribute => {
                "a reference to an external entity in an attribute value"
            }
            ExpandError::MarkupInAttribute => "an entity with '<' referenced in an attribute value",
            ExpandError::Malformed => "an entity whose replacement text is not well-formed content",
            ExpandError::TooLarge => {
                "entity expansion past the limit (1 MiB per reference, 64 levels): refused"
            }
        }
    }
}

/// How a referenced entity's text is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// In element content: markup in it is allowed (its text is kept, its tags dropped).
    Content,
    /// In an attribute value: markup is not allowed, white space becomes spaces.
    Attribute,
}

impl Dtd {
    /// Appends the text `name` expands to in `ctx`: nested references followed, markup
    /// dropped (content keeps the text between tags). An external entity (never read)
    /// expands to nothing; one reference produces at most [`MAX_EXPANSION`] bytes.
    pub fn expand(&self, name: &[u8], ctx: Context, out: &mut Vec<u8>) -> Result<(), ExpandError> {
        let mut stack = Vec::new();
        let mut budget = MAX_EXPANSION;
        self.expand_into(name, ctx, out, &mut stack, &mut budget)
    }

    fn expand_into<'a>(
        &'a self,
        name: &'a [u8],
        ctx: Context,
        out: &mut Vec<u8>,
        stack: &mut Vec<&'a [u8]>,
        budget: &mut usize,
    ) -> Result<(), ExpandError> {
        if let Some(ch) = wf::predefined(name) {
            return push(out, &[ch], budget);
        }
        let Some(entity) = self
            .entities
            .get(name)
            .filter(|e| !e.external || !self.has_external)
        else {
            return if self.has_external {
                // Possibly declared in the external subset, which is not read: kept as written.
                push(out, b"&", budget)?;
                push(out, name, budget)?;
                push(out, b";", budget)
            } else {
                Err(ExpandError::Undeclared)
            };
        };
        if entity.unparsed {
            return Err(ExpandError::Unparsed);
        }
        let Some(value) = &entity.value else {
            return match ctx {
                Context::Attribute => Err(ExpandError::ExternalInAttribute),
                Context::Content => Ok(()),
            };
        };
        if stack.contains(&name) {
            return Err(ExpandError::Recursive);
        }
        if stack.len() >= MAX_NESTING {
            return Err(ExpandError::TooLarge);
        }
        if ctx == Context::Attribute && memchr::memchr(b'<', value).is_some() {
            return Err(ExpandError::MarkupInAttribute);
        }
        if ctx == Context::Content && memchr::memchr(b'<', value).is_some() && !balanced(value) {
            return Err(ExpandError::Malformed);
        }
        stack.push(name);
        let mut p = 0;
        while p < value.len() {
            let rest = value.get(p..).unwrap_or_default();
            let next = memchr::memchr2(b'&', b'<', rest).map_or(value.len(), |k| p + k);
            let text = value.get(p..next).unwrap_or_default();
            match ctx {
                Context::Attribute => {
                    for &b in text {
                        push(
                            out,
                            &[if matches!(b, b'\t' | b'\n' | b'\r') {
                                b' '
                            } else {
                                b
                            }],
                            budget,
                        )?;
                    }
                }
                Context::Content => push(out, text, budget)?,
            }
            p = next;
            match value.get(p) {
                Some(b'&') => {
                    let Some(n) = memchr::memchr(b';', value.get(p + 1..).unwrap_or_default())
                    else {
                        return Err(ExpandError::Malformed);
                    };
                    let body = value.get(p + 1..p + 1 + n).unwrap_or_default();
                    match wf::reference(body, self.v11) {
                        Some(Ref::Entity(inner)) => {
                            self.expand_into(inner, ctx, out, stack, budget)?;
                        }
                        Some(Ref::Char(c)) => {
                            let mut buf = [0u8; 4];
                            push(out, c.encode_utf8(&mut buf).as_bytes(), budget)?;
                        }
                        None => return Err(ExpandError::Malformed),
                    }
                    p += n + 2;
                }
                Some(b'<') => {
                    // Markup inside content: its text is kept (a CDATA section's too), the
                    // tags are not.
                    let end = skip_markup(value, p);
                    if let Some(inner) = value
                        .get(p..end)
                        .and_then(|m| m.strip_prefix(b"<![CDATA["))
                        .and_then(|m| m.strip_suffix(b"]]>"))
                    {
                        push(out, inner, budget)?;
                    }
                    p = end;
                }
                _ => {}
            }
        }
        stack.pop();
        Ok(())
    }
}

fn push(out: &mut Vec<u8>, b: &[u8], budget: &mut usize) -> Result<(), ExpandError> {
    if b.len() > *budget {
        return Err(ExpandError::TooLarge);
    }
    *budget -= b.len();
    out.extend_from_slice(b);
    Ok(())
}

/// Past the markup at `p` in an entity's text (CDATA keeps its text: it is skipped to its
/// content's start).
fn skip_markup(v: &[u8], p: usize) -> usize {
    use super::scan::{markup, Found};
    match markup(v, p) {
        Found::Markup(_, end) => end,
        Found::Incomplete => v.len(),
    }
}

/// Whether the tags in `v` balance (a parsed entity must be well-formed content).
fn balanced(v: &[u8]) -> bool {
    use super::scan::{markup, Found, Markup, Nesting};
    let mut nest = Nesting::default();
    let mut p = 0;
    while let Some(k) = memchr::memchr(b'<', v.get(p..).unwrap_or_default()) {
        let lt = p + k;
        match markup(v, lt) {
            Found::Incomplete => return false,
            Found::Markup(m, end) => {
                p = end;
                match m {
                    Markup::Start { name, empty } => {
                        let n = v.get(name.0..name.1).unwrap_or_default();
                        if !wf::is_name(n) {
                            return false;
                        }
                        // Its attributes: well formed, and each value a valid attribute
                        // value once the entity's character references are expanded.
                        let inner_end = if empty { end - 2 } else { end - 1 };
                        let tag = super::walk::Tag {
                            raw: v.get(lt + 1..inner_end).unwrap_or_default(),
                            name_len: name.1 - name.0,
                            at: lt,
                            empty,
                        };
                        let mut attrs = Vec::new();
                        if super::walk::parse_attrs(&tag, &mut attrs).is_err() {
                            return false;
                        }
                        let plain = Dtd::default();
                        if attrs
                            .iter()
                            .any(|(_, value)| check_att_value(value, &plain).is_err())
                        {
                            return false;
                        }
                        if !empty {
                            nest.open(n);
                        }
                    }
                    Markup::End { name } => {
                        let n = v.get(name.0..name.1).unwrap_or_default();
                        if nest.close(n, usize::MAX) != super::scan::Closed::Matched {
                            return false;
                        }
                    }
                    Markup::Doctype | Markup::Other => return false,
                    Markup::Pi => {
                        let body = v.get(lt + 2..end - 2).unwrap_or_default();
                        if pi_ok(body).is_err() {
                            return false;
                        }
                    }
                    Markup::Comment | Markup::CData => {}
                }
            }
        }
    }
    nest.depth() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dtd(body: &str) -> Parsed<Dtd> {
        parse(body.as_bytes(), false, false)
    }

    #[test]
    fn declarations_parse() {
        let d = dtd(concat!(
            " doc [\n",
            "<!ELEMENT doc (a, (b | c)*, d?)+>\n",
            "<!ELEMENT a (#PCDATA | b)*>\n",
            "<!ELEMENT b EMPTY>\n",
            "<!ATTLIST doc id ID #REQUIRED kind (x | y) 'x' n NOTATION (png) #IMPLIED>\n",
            "<!ENTITY e 'text &#65; &f;'>\n",
            "<!ENTITY f \"more\">\n",
            "<!ENTITY pic SYSTEM 'pic.png' NDATA png>\n",
            "<!NOTATION png PUBLIC 'image/png'>\n",
            "<!-- a comment --><?pi data?>\n",
            "]"
        ))
        .unwrap();
        assert_eq!(d.root, b"doc");
        let mut out = Vec::new();
        d.expand(b"e", Context::Content, &mut out).unwrap();
        assert_eq!(out, b"text A more");
        assert_eq!(
            d.expand(b"pic", Context::Content, &mut Vec::new()),
            Err(ExpandError::Unparsed)
        );
        assert_eq!(
            d.expand(b"nope", Context::Content, &mut Vec::new()),
            Err(ExpandError::Undeclared)
        );
    }

    #[test]
    fn bad_declarations_are_errors() {
        for body in [
            " doc [<!ELEMENT doc (a,b|c)>]",
            " doc [<!ELEMENT doc (#PCDATA|a)>]",
            " doc [<!ELEMENT doc>]",
            " doc [<!ENTITY e 'x' >",
            " doc [<!ENTITY e x>]",
            " doc [<!ENTITY % p 'x'><!ENTITY e '%p;'>]",
            " doc [<!ATTLIST doc a CDATA '<'>]",
            " doc [<!-- a -- b -->]",
            " doc [<?xml version='1.0'?>]",
            " doc [ junk ]",
            "doc",
            " doc PUBLIC 'a' ",
            " doc SYSTEM",
        ] {
            assert!(dtd(body).is_err(), "{body}");
        }
    }

    #[test]
    fn expansion_is_bounded() {
        let mut body = String::from(" lolz [<!ENTITY lol0 'lollollollollollollollollollol'>");
        for i in 1..10 {
            let prev = format!("&lol{};", i - 1).repeat(10);
            body.push_str(&format!("<!ENTITY lol{i} '{prev}'>"));
        }
        body.push(']');
        let d = dtd(&body).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            d.expand(b"lol9", Context::Content, &mut out),
            Err(ExpandError::TooLarge)
        );
        assert!(out.len() <= MAX_EXPANSION);
        let d = dtd(" a [<!ENTITY x '&y;'><!ENTITY y '&x;'>]").unwrap();
        assert_eq!(
            d.expand(b"x", Context::Content, &mut Vec::new()),
            Err(ExpandError::Recursive)
        );
    }

    #[test]
    fn markup_in_entities() {
        let d = dtd(" a [<!ENTITY m '<b>bold</b> text'><!ENTITY bad '<b>'>]").unwrap();
        let mut out = Vec::new();
        d.expand(b"m", Context::Content, &mut out).unwrap();
        assert_eq!(out, b"bold text");
        assert_eq!(
            d.expand(b"bad", Context::Content, &mut Vec::new()),
            Err(ExpandError::Malformed)
        );
        assert_eq!(
            d.expand(b"m", Context::Attribute, &mut Vec::new()),
            Err(ExpandError::MarkupInAttribute)
        );
    }
}
