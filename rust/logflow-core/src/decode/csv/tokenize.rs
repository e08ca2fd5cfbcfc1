//! Tokenizing one in-memory chunk into a [`RowBlock`]: field bytes back to back, with each
//! record's line and raw byte span kept for error reports and byte-exact quarantine.

use csv_core::{ReadRecordResult, ReaderBuilder};

/// The dialect the tokenizer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// Field delimiter (its last byte, for a two-byte delimiter).
    pub delimiter: u8,
    /// The first byte of a two-byte delimiter: `§` is C2 A7 in UTF-8, so `Some(0xC2)` with
    /// `delimiter` A7. `None` for one-byte delimiters.
    pub delimiter_lead: Option<u8>,
    /// Quote character; `None` turns quoting off.
    pub quote: Option<u8>,
    /// Escape character inside quotes; `None` means doubled quotes.
    pub escape: Option<u8>,
    /// Spaces right after a delimiter are not part of the next field (`a, "b, c", d`), as
    /// Python's `skipinitialspace`.
    pub skip_initial_space: bool,
}

impl Dialect {
    fn reader(&self) -> csv_core::Reader {
        let mut b = ReaderBuilder::new();
        b.delimiter(self.delimiter)
            .double_quote(self.escape.is_none())
            .escape(self.escape);
        match self.quote {
            Some(q) => b.quote(q),
            None => b.quoting(false),
        };
        let mut r = b.build();
        arm(&mut r);
        r
    }
}

/// csv-core strips a UTF-8 byte order mark from the first bytes a fresh (or reset) reader
/// sees. Records here start mid-input, where U+FEFF is data (the chunker removes the real
/// BOM), so feed the reader one blank line first: it is skipped and the check is spent.
fn arm(r: &mut csv_core::Reader) {
    let _ = r.read_record(b"\n", &mut [0u8; 1], &mut [0usize; 1]);
}

/// The number of spaces at `line[at..]`.
fn spaces_at(line: &[u8], at: usize) -> usize {
    line.get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b' ')
        .count()
}

/// One tokenized record.
#[derive(Debug, Clone, Copy)]
pub struct RowMeta {
    /// Index of its first field in [`RowBlock`]'s `ends`.
    pub first_field: usize,
    /// Number of fields.
    pub fields: usize,
    /// 1-based line where it starts.
    pub line: u64,
    /// 0-based record number within the chunk (counting rejected records too).
    pub record: u64,
    /// Raw byte span in the chunk, line terminator included.
    pub start: usize,
    /// End of the raw span.
    pub end: usize,
    /// Whether the record spans several lines (a quoted field holds a line feed).
    pub multiline: bool,
}

/// Records of one chunk. Field `k` spans `data[ends[k-1]..ends[k]]` (quotes removed).
#[derive(Debug, Default)]
pub struct RowBlock {
    pub(crate) data: Vec<u8>,
    pub(crate) ends: Vec<usize>,
    pub(crate) rows: Vec<RowMeta>,
}

/// Most field bytes a spare row block keeps room for (four default chunks).
const SPARE_BYTES: usize = 16 << 20;

thread_local! {
    /// One spare block per thread: decode workers reuse its buffers from chunk to chunk
    /// instead of growing fresh ones (and faulting in new pages) every time.
    static SPARE: std::cell::RefCell<Option<RowBlock>> = const { std::cell::RefCell::new(None) };
}

impl RowBlock {
    /// An empty block, reusing this thread's spare buffers when there are some.
    pub fn reused() -> Self {
        SPARE.with(|s| s.borrow_mut().take()).unwrap_or_default()
    }

    /// Empties the block and keeps it as this thread's spare, unless a huge record grew it
    /// past [`SPARE_BYTES`]: a thread that lives on (the caller of a `read()` stream) must
    /// not hold such a buffer after it is done.
    pub fn recycle(mut self) {
        if self.data.capacity() > SPARE_BYTES {
            return;
        }
        self.data.clear();
        self.ends.clear();
        self.rows.clear();
        SPARE.with(|s| *s.borrow_mut() = Some(self));
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The records.
    pub fn rows(&self) -> &[RowMeta] {
        &self.rows
    }

    fn field(&self, k: usize) -> &[u8] {
        let start = if k == 0 {
            0
        } else {
            self.ends.get(k - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(k).copied().unwrap_or(start);
        self.data.get(start..end).unwrap_or_default()
    }

    /// Field `col` of `row` (empty when out of range).
    pub fn row_field(&self, row: &RowMeta, col: usize) -> &[u8] {
        if col >= row.fields {
            return &[];
        }
        self.field(row.first_field + col)
    }

    /// Takes the last record out again (its fields with it).
    pub fn pop(&mut self) -> Option<RowMeta> {
        let row = self.rows.pop()?;
        let data_end = if row.first_field == 0 {
            0
        } else {
            self.ends.get(row.first_field - 1).copied().unwrap_or(0)
        };
        self.ends.truncate(row.first_field);
        self.data.truncate(data_end);
        Some(row)
    }

    /// All field bytes of `row`, back to back.
    pub fn row_data(&self, row: &RowMeta) -> &[u8] {
        let start = if row.first_field == 0 {
            0
        } else {
            self.ends.get(row.first_field - 1).copied().unwrap_or(0)
        };
        let end = self
            .ends
            .get(row.first_field + row.fields.saturating_sub(1))
            .copied()
            .unwrap_or(start);
        self.data.get(start..end).unwrap_or_default()
    }
}

/// The outcome of one [`ChunkTokenizer::next`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A record was added to the block.
    Record,
    /// No more records in this chunk.
    End,
    /// The chunk ended inside the record starting at `start` (more input follows).
    Incomplete {
        /// Where the incomplete record starts.
        start: usize,
    },
    /// The input ended inside a quoted field of the record starting at `start`.
    Unterminated {
        /// Where the record starts.
        start: usize,
    },
}

/// Tokenizes records from one chunk.
pub struct ChunkTokenizer<'a> {
    input: &'a [u8],
    pos: usize,
    line: u64,
    record: u64,
    last: bool,
    core: csv_core::Reader,
    dialect: Dialect,
    /// The last line feed search: from where, and the line feed found (`None`: none from
    /// there to the end). Input with few or no line feeds (carriage returns end its lines)
    /// would otherwise be searched to its end once per record.
    lf_search: Option<(usize, Option<usize>)>,
}

impl<'a> ChunkTokenizer<'a> {
    /// Starts at `input[start]`, which is on line `line`; `last` says whether input ends here.
    pub fn new(input: &'a [u8], start: usize, line: u64, last: bool, dialect: Dialect) -> Self {
        ChunkTokenizer {
            input,
            pos: start,
            line,
            record: 0,
            last,
            core: dialect.reader(),
            dialect,
            lf_search: None,
        }
    }

    /// Current position in the chunk.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Line of the current position.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Records seen so far, rejected ones included.
    pub fn records(&self) -> u64 {
        self.record
    }

    fn skip_blank_lines(&mut self) {
        while let Some(&c) = self.input.get(self.pos) {
            if c != b'\n' && c != b'\r' {
                break;
            }
            self.line += u64::from(c == b'\n');
            self.pos += 1;
        }
    }

    /// Goes back to the start of `row`, the record just read, as if it had not been.
    pub fn rewind(&mut self, row: &RowMeta) {
        self.pos = row.start;
        self.line = row.line;
        self.record = row.record;
        self.lf_search = None;
        self.core.reset();
        arm(&mut self.core);
    }

    /// Gives up on the record at `start` (an unterminated quote): returns the span of its
    /// first line and its line number, and resumes on the next line.
    pub fn skip_first_line(&mut self, start: usize) -> (std::ops::Range<usize>, u64, u64) {
        let rest = self.input.get(start..).unwrap_or_default();
        // The line ends at the first line end of any kind (CR, LF or CRLF), as records do
        // outside quotes: what else the chunk holds (which depends on where it was cut) does
        // not change it.
        let end = memchr::memchr2(b'\n', b'\r', rest).map_or(self.input.len(), |i| {
            let crlf = rest.get(i) == Some(&b'\r') && rest.get(i + 1) == Some(&b'\n');
            start + i + 1 + usize::from(crlf)
        });
        let line = self.line;
        let record = self.record;
        self.record += 1;
        self.line += 1;
        self.pos = end;
        self.core.reset();
        arm(&mut self.core);
        (start..end, line, record)
    }

    /// Reads the next record into `block`.
    pub fn next(&mut self, block: &mut RowBlock) -> Step {
        self.skip_blank_lines();
        if self.pos >= self.input.len() {
            return Step::End;
        }
        if self.fast_record(block) {
            return Step::Record;
        }
        if self.dialect.skip_initial_space || self.dialect.delimiter_lead.is_some() {
            return self.own_record(block);
        }
        self.slow_record(block)
    }

    /// A record in a dialect csv-core cannot read (spaces skipped after delimiters, a
    /// two-byte delimiter),
    /// tokenized here with csv-core's rules otherwise: a quote opens a quoted field only at
    /// its start, a quote inside an unquoted field is data, text after a closing quote is
    /// appended, and CR, LF or CRLF ends a record outside quotes.
    fn own_record(&mut self, block: &mut RowBlock) -> Step {
        #[derive(Clone, Copy, PartialEq, Eq)]
        enum State {
            FieldStart,
            Unquoted,
            Quoted,
            Escaped,
            QuoteInQuoted,
        }
        let Dialect {
            delimiter,
            delimiter_lead,
            quote,
            escape,
            skip_initial_space,
        } = self.dialect;
        let start = self.pos;
        let first_field = block.ends.len();
        let data_start = block.data.len();
        let input = self.input.get(start..).unwrap_or_default();
        let mut state = State::FieldStart;
        let mut after_delimiter = false;
        let mut i = 0;
        let mut end = None;
        while let Some(&b) = input.get(i) {
            i += 1;
            // A delimiter here (both bytes of a two-byte one, then `i` is past them).
            let at_delimiter = match delimiter_lead {
                None => b == delimiter,
                Some(lead) => b == lead && input.get(i) == Some(&delimiter),
            };
            match state {
                State::FieldStart if b == b' ' && after_delimiter && skip_initial_space => {}
                State::FieldStart if Some(b) == quote => state = State::Quoted,
                State::FieldStart | State::Unquoted | State::QuoteInQuoted if at_delimiter => {
                    i += usize::from(delimiter_lead.is_some());
                    block.ends.push(block.data.len());
                    state = State::FieldStart;
                    after_delimiter = true;
                }
                State::FieldStart | State::Unquoted | State::QuoteInQuoted
                    if b == b'\n' || b == b'\r' =>
                {
                    if b == b'\r' && input.get(i) == Some(&b'\n') {
                        i += 1;
                    }
                    end = Some(i);
                    break;
                }
                State::QuoteInQuoted if escape.is_none() && Some(b) == quote => {
                    block.data.push(b);
                    state = State::Quoted;
                }
                State::FieldStart | State::Unquoted | State::QuoteInQuoted => {
                    block.data.push(b);
                    state = State::Unquoted;
                }
                State::Quoted if escape == Some(b) => state = State::Escaped,
                State::Quoted if Some(b) == quote => state = State::QuoteInQuoted,
                State::Quoted => block.data.push(b),
                State::Escaped => {
                    block.data.push(b);
                    state = State::Quoted;
                }
            }
        }
        let end = match end {
            Some(e) => e,
            None if !self.last => {
                block.data.truncate(data_start);
                block.ends.truncate(first_field);
                return Step::Incomplete { start };
            }
            None if matches!(state, State::Quoted | State::Escaped) => {
                block.data.truncate(data_start);
                block.ends.truncate(first_field);
                return Step::Unterminated { start };
            }
            // The input ends the last record.
            None => input.len(),
        };
        block.ends.push(block.data.len());
        let raw = input.get(..end).unwrap_or_default();
        let newlines = memchr::memchr_iter(b'\n', raw).count() as u64;
        let body = raw
            .strip_suffix(b"\n")
            .or_else(|| raw.strip_suffix(b"\r"))
            .unwrap_or(raw);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        block.rows.push(RowMeta {
            first_field,
            fields: block.ends.len() - first_field,
            line: self.line,
            record: self.record,
            start,
            end: start + end,
            multiline: memchr::memchr2(b'\n', b'\r', body).is_some(),
        });
        self.record += 1;
        self.line += newlines.max(1);
        self.pos = start + end;
        Step::Record
    }

    /// The position of the first line feed at or after `from`, remembered so that later
    /// records before it do not search again.
    fn next_line_feed(&mut self, from: usize) -> Option<usize> {
        match self.lf_search {
            Some((searched, found)) if searched <= from && found.is_none_or(|at| at >= from) => {
                found
            }
            _ => {
                let found = memchr::memchr(b'\n', self.input.get(from..)?).map(|i| from + i);
                self.lf_search = Some((from, found));
                found
            }
        }
    }

    /// A whole line with no quote and no carriage return but a final one (or, where no line
    /// feed follows, a line ended by a lone carriage return): splitting at the delimiter is
    /// exactly what csv-core would do, several times faster.
    fn fast_record(&mut self, block: &mut RowBlock) -> bool {
        let start = self.pos;
        let avail = self.input.get(start..).unwrap_or_default();
        let nl = match self.next_line_feed(start) {
            Some(at) => at - start,
            // No line feed up to the end: lines end in a lone carriage return.
            None => match memchr::memchr(b'\r', avail) {
                Some(cr) => cr,
                None => return false,
            },
        };
        let mut line = avail.get(..nl).unwrap_or_default();
        if let Some((b'\r', rest)) = line.split_last() {
            line = rest;
        }
        let special = match self.dialect.quote {
            Some(q) => memchr::memchr2(q, b'\r', line),
            None => memchr::memchr(b'\r', line),
        };
        if let Some(at) = special {
            let rest = line.get(at..).unwrap_or_default();
            let quote_only = line.get(at) != Some(&b'\r') && memchr::memchr(b'\r', rest).is_none();
            return quote_only && self.quoted_line(block, line, nl);
        }
        let first_field = block.ends.len();
        let mut last = 0;
        let skip = self.dialect.skip_initial_space;
        let lead = self.dialect.delimiter_lead;
        for d in memchr::memchr_iter(self.dialect.delimiter, line) {
            // A two-byte delimiter: the byte found is its second; the field ends before the
            // first, and a lone second byte (part of another character) is data.
            let field_end = match lead {
                None => d,
                Some(l) if d > last && line.get(d - 1) == Some(&l) => d - 1,
                Some(_) => continue,
            };
            block
                .data
                .extend_from_slice(line.get(last..field_end).unwrap_or_default());
            block.ends.push(block.data.len());
            last = d + 1;
            if skip {
                last += spaces_at(line, last);
            }
        }
        block
            .data
            .extend_from_slice(line.get(last..).unwrap_or_default());
        block.ends.push(block.data.len());
        self.end_line_record(block, first_field, nl);
        true
    }

    /// Records the one-line record at `self.pos` whose fields are in `block` from
    /// `first_field` on, its line feed at `self.pos + nl`, and moves past it.
    fn end_line_record(&mut self, block: &mut RowBlock, first_field: usize, nl: usize) {
        let start = self.pos;
        let end = start + nl + 1;
        block.rows.push(RowMeta {
            first_field,
            fields: block.ends.len() - first_field,
            line: self.line,
            record: self.record,
            start,
            end,
            multiline: false,
        });
        self.record += 1;
        self.line += 1;
        self.pos = end;
    }

    /// A whole line whose quoted fields are simple (`"a, b"`: closed on the same line, no
    /// doubled quote or escape, a delimiter or the line end right after): split here, as
    /// csv-core would. Anything else (false) goes to csv-core.
    fn quoted_line(&mut self, block: &mut RowBlock, line: &[u8], nl: usize) -> bool {
        let Dialect {
            delimiter: d,
            delimiter_lead: None,
            quote: Some(q),
            escape,
            skip_initial_space: false,
        } = self.dialect
        else {
            return false;
        };
        if escape.is_some_and(|e| memchr::memchr(e, line).is_some()) {
            return false;
        }
        let first_field = block.ends.len();
        let data_start = block.data.len();
        let give_up = |block: &mut RowBlock| {
            block.data.truncate(data_start);
            block.ends.truncate(first_field);
            false
        };
        let mut i = 0;
        loop {
            if line.get(i) == Some(&q) {
                let inner = line.get(i + 1..).unwrap_or_default();
                let Some(k) = memchr::memchr(q, inner) else {
                    return give_up(block); // the quote goes on past this line
                };
                let close = i + 1 + k;
                block
                    .data
                    .extend_from_slice(line.get(i + 1..close).unwrap_or_default());
                block.ends.push(block.data.len());
                match line.get(close + 1) {
                    None => break,
                    Some(&c) if c == d => i = close + 2,
                    // A doubled quote or text after the closing quote.
                    Some(_) => return give_up(block),
                }
            } else {
                let rest = line.get(i..).unwrap_or_default();
                match memchr::memchr(d, rest) {
                    Some(k) => {
                        block
                            .data
                            .extend_from_slice(rest.get(..k).unwrap_or_default());
                        block.ends.push(block.data.len());
                        i += k + 1;
                    }
                    None => {
                        block.data.extend_from_slice(rest);
                        block.ends.push(block.data.len());
                        break;
                    }
                }
            }
        }
        self.end_line_record(block, first_field, nl);
        true
    }

    fn slow_record(&mut self, block: &mut RowBlock) -> Step {
        let start = self.pos;
        let first_field = block.ends.len();
        let data_start = block.data.len();
        let mut out = data_start;
        let mut nends = first_field;
        // Output room: a record's fields are never longer than its raw bytes, and most slow
        // records are one line, so size the (zeroed) room to the line, not a fixed page.
        let rest = self.input.get(start..).unwrap_or_default();
        let line_len = memchr::memchr2(b'\n', b'\r', rest).map_or(rest.len(), |i| i + 1);
        block.data.resize(data_start + line_len + 1, 0);
        block.ends.resize(first_field + 64, 0);
        let mut probed_eof = false;
        let abandon = |block: &mut RowBlock, core: &mut csv_core::Reader| {
            block.data.truncate(data_start);
            block.ends.truncate(first_field);
            core.reset();
            arm(core);
        };
        loop {
            let rest = self.input.get(self.pos..).unwrap_or_default();
            let synthetic = rest.is_empty();
            let feed: &[u8] = if !synthetic {
                rest
            } else if !self.last {
                abandon(block, &mut self.core);
                self.pos = start;
                return Step::Incomplete { start };
            } else if !probed_eof {
                // At the end of input, a line feed ends the record unless a quote is open.
                probed_eof = true;
                b"\n"
            } else {
                abandon(block, &mut self.core);
                self.pos = start;
                return Step::Unterminated { start };
            };
            let output = block.data.get_mut(out..).unwrap_or_default();
            let ends = block.ends.get_mut(nends..).unwrap_or_default();
            let (res, nin, nout, nend) = self.core.read_record(feed, output, ends);
            if !synthetic {
                self.pos += nin;
            } else if nin == 0 {
                // The probe was not taken (no output room yet): offer it again.
                probed_eof = false;
            }
            out += nout;
            nends += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                // Grow by what this record has used so far, not by the whole block (which
                // made records spanning lines quadratic).
                ReadRecordResult::OutputFull => {
                    let grow = (out - data_start).max(256);
                    block.data.resize(block.data.len() + grow, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let grow = (nends - first_field).max(64);
                    block.ends.resize(block.ends.len() + grow, 0);
                }
                ReadRecordResult::Record => {
                    // csv-core ends a CRLF record at the CR; the LF belongs to it too.
                    if self.input.get(self.pos.wrapping_sub(1)) == Some(&b'\r')
                        && self.input.get(self.pos) == Some(&b'\n')
                    {
                        self.pos += 1;
                    }
                    block.data.truncate(out);
                    block.ends.truncate(nends);
                    // csv-core reports ends relative to the record start.
                    for e in block.ends.get_mut(first_field..).unwrap_or_default() {
                        *e += data_start;
                    }
                    let raw = self.input.get(start..self.pos).unwrap_or_default();
                    let newlines = memchr::memchr_iter(b'\n', raw).count() as u64;
                    let body_newlines = newlines - u64::from(raw.last() == Some(&b'\n'));
                    block.rows.push(RowMeta {
                        first_field,
                        fields: nends - first_field,
                        line: self.line,
                        record: self.record,
                        start,
                        end: self.pos,
                        multiline: body_newlines > 0,
                    });
                    self.record += 1;
                    // A record ended by EOF (no line feed) still moves to the next line.
                    self.line += newlines.max(1);
                    return Step::Record;
                }
                ReadRecordResult::End => {
                    abandon(block, &mut self.core);
                    return Step::End;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Dialect = Dialect {
        delimiter: b',',
        delimiter_lead: None,
        quote: Some(b'"'),
        escape: None,
        skip_initial_space: false,
    };

    fn all(input: &[u8], last: bool) -> (RowBlock, Vec<Step>) {
        let mut t = ChunkTokenizer::new(input, 0, 1, last, D);
        let mut b = RowBlock::default();
        let mut steps = Vec::new();
        loop {
            let s = t.next(&mut b);
            steps.push(s);
            if s != Step::Record {
                break;
            }
        }
        (b, steps)
    }

    fn fields(b: &RowBlock, r: usize) -> Vec<String> {
        let row = b.rows[r];
        (0..row.fields)
            .map(|c| String::from_utf8_lossy(b.row_field(&row, c)).into_owned())
            .collect()
    }

    #[test]
    fn fast_and_slow_paths_agree_with_csv_core() {
        let input = b"a,b\r\n\"x,1\",\"q\"\"q\"\n\n\"multi\nline\",2\nlast,row";
        let (b, steps) = all(input, true);
        assert_eq!(steps.last(), Some(&Step::End));
        assert_eq!(fields(&b, 0), ["a", "b"]);
        assert_eq!(fields(&b, 1), ["x,1", "q\"q"]);
        assert_eq!(fields(&b, 2), ["multi\nline", "2"]);
        assert_eq!(fields(&b, 3), ["last", "row"]);
        let lines: Vec<u64> = b.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 2, 4, 6]);
        let raw: Vec<&[u8]> = b.rows.iter().map(|r| &input[r.start..r.end]).collect();
        assert_eq!(
            raw,
            [
                &b"a,b\r\n"[..],
                b"\"x,1\",\"q\"\"q\"\n",
                b"\"multi\nline\",2\n",
                b"last,row"
            ]
        );
        assert!(b.rows[2].multiline && !b.rows[1].multiline);
    }

    #[test]
    fn a_feff_character_in_data_is_kept() {
        let (b, _) = all("\u{feff},\"x\"\n".as_bytes(), true);
        assert_eq!(fields(&b, 0), ["\u{feff}", "x"]);
    }

    #[test]
    fn chunk_end_inside_a_record_is_incomplete() {
        let (b, steps) = all(b"1,2\n\"open\n", false);
        assert_eq!(b.len(), 1);
        assert_eq!(steps.last(), Some(&Step::Incomplete { start: 4 }));
        let (_, steps) = all(b"1,2\n3,4", false);
        assert_eq!(steps.last(), Some(&Step::Incomplete { start: 4 }));
    }

    #[test]
    fn open_quote_at_end_of_input_is_unterminated() {
        let input = b"1,2\n3,\"open\n4,5\n";
        let mut t = ChunkTokenizer::new(input, 0, 1, true, D);
        let mut b = RowBlock::default();
        assert_eq!(t.next(&mut b), Step::Record);
        assert_eq!(t.next(&mut b), Step::Unterminated { start: 4 });
        let (span, line, record) = t.skip_first_line(4);
        assert_eq!((&input[span], line, record), (&b"3,\"open\n"[..], 2, 1));
        assert_eq!(t.next(&mut b), Step::Record);
        assert_eq!(fields(&b, 1), ["4", "5"]);
        assert_eq!(b.rows[1].line, 3);
    }

    const PADDED: Dialect = Dialect {
        skip_initial_space: true,
        ..D
    };

    fn all_in(input: &[u8], last: bool, d: Dialect) -> (RowBlock, Vec<Step>) {
        let mut t = ChunkTokenizer::new(input, 0, 1, last, d);
        let mut b = RowBlock::default();
        let mut steps = Vec::new();
        loop {
            let s = t.next(&mut b);
            steps.push(s);
            if s != Step::Record {
                break;
            }
        }
        (b, steps)
    }

    #[test]
    fn spaces_after_delimiters_are_skipped_when_the_dialect_says_so() {
        let input =
            b"  a,  b, \"c, d\", e\r\nx, \"q\"\"q\", \"two\nlines\"\n1,,  \n\"t\"ail, \"end\"";
        let (b, steps) = all_in(input, true, PADDED);
        assert_eq!(steps.last(), Some(&Step::End));
        // Spaces at the start of a record are data, as in Python's csv.
        assert_eq!(fields(&b, 0), ["  a", "b", "c, d", "e"]);
        assert_eq!(fields(&b, 1), ["x", "q\"q", "two\nlines"]);
        assert_eq!(fields(&b, 2), ["1", "", ""]);
        // Text after a closing quote is kept, as csv-core does.
        assert_eq!(fields(&b, 3), ["tail", "end"]);
        let lines: Vec<u64> = b.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 2, 4, 5]);
        let raw: Vec<&[u8]> = b.rows.iter().map(|r| &input[r.start..r.end]).collect();
        assert_eq!(raw[0], b"  a,  b, \"c, d\", e\r\n");
        assert_eq!(raw[3], b"\"t\"ail, \"end\"");
        assert!(b.rows[1].multiline && !b.rows[0].multiline);
        // Without the option the spaces stay.
        let (b, _) = all_in(b"1, 2\n", true, D);
        assert_eq!(fields(&b, 0), ["1", " 2"]);
    }

    #[test]
    fn padded_dialect_reports_cut_and_unclosed_records() {
        assert_eq!(
            all_in(b"1, 2\n3, \"open", false, PADDED).1.last(),
            Some(&Step::Incomplete { start: 5 })
        );
        assert_eq!(
            all_in(b"1, 2\n3, \"open\n4, 5\n", true, PADDED).1.last(),
            Some(&Step::Unterminated { start: 5 })
        );
        let escaped = Dialect {
            escape: Some(b'\\'),
            ..PADDED
        };
        let (b, _) = all_in(b"a, \"b\\\"c, d\"\n", true, escaped);
        assert_eq!(fields(&b, 0), ["a", "b\"c, d"]);
        let (b, _) = all_in(b"a\r b, c\rd, e", true, PADDED);
        assert_eq!(fields(&b, 1), [" b", "c"]);
        assert_eq!(fields(&b, 2), ["d", "e"]);
    }

    proptest::proptest! {
        #[test]
        fn padded_records_read_back_as_written(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a ,\"\n]{0,6}", 1..5),
                1..6,
            ),
        ) {
            // Each field quoted when it needs to be (or starts with a space, which padding
            // would eat), fields joined by ", ".
            let mut text = String::new();
            for row in &rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|f| {
                        if f.contains([',', '"', '\n']) || f.starts_with(' ') || f.is_empty() {
                            format!("\"{}\"", f.replace('"', "\"\""))
                        } else {
                            f.clone()
                        }
                    })
                    .collect();
                text.push_str(&cells.join(", "));
                text.push('\n');
            }
            let (b, steps) = all_in(text.as_bytes(), true, PADDED);
            proptest::prop_assert_eq!(steps.last(), Some(&Step::End));
            let got: Vec<Vec<String>> = (0..b.len()).map(|r| fields(&b, r)).collect();
            proptest::prop_assert_eq!(got, rows);
        }
    }

    #[test]
    fn two_byte_delimiters_split_only_at_their_two_bytes() {
        // `ç` is C3 A7: its second byte is also §'s second byte (C2 A7), and is data.
        let section = Dialect {
            delimiter: 0xA7,
            delimiter_lead: Some(0xC2),
            ..D
        };
        let input = "ça§b§§c\r\n\"x § y\"§\"q\"\"q\"§ç\n§end".as_bytes();
        let (b, steps) = all_in(input, true, section);
        assert_eq!(steps.last(), Some(&Step::End));
        assert_eq!(fields(&b, 0), ["ça", "b", "", "c"]);
        assert_eq!(fields(&b, 1), ["x § y", "q\"q", "ç"]);
        assert_eq!(fields(&b, 2), ["", "end"]);
        // With spaces skipped too.
        let padded = Dialect {
            skip_initial_space: true,
            ..section
        };
        let (b, _) = all_in("a§ b§ \"c§d\"\n".as_bytes(), true, padded);
        assert_eq!(fields(&b, 0), ["a", "b", "c§d"]);
    }

    #[test]
    fn simple_quoted_lines_take_the_fast_path_with_csv_core_results() {
        let input = b"a,\"b, c\",d\n\"\",x,\"\"\n\"q\"\"q\",1\n\"t\"ail,2\nu\"v,\"w\"\n\"end\",\n";
        let (b, steps) = all(input, true);
        assert_eq!(steps.last(), Some(&Step::End));
        assert_eq!(fields(&b, 0), ["a", "b, c", "d"]);
        assert_eq!(fields(&b, 1), ["", "x", ""]);
        assert_eq!(fields(&b, 2), ["q\"q", "1"]); // doubled quote: csv-core
        assert_eq!(fields(&b, 3), ["tail", "2"]); // text after the closing quote: csv-core
        assert_eq!(fields(&b, 4), ["u\"v", "w"]); // a quote inside an unquoted field is data
        assert_eq!(fields(&b, 5), ["end", ""]);
        let ends: Vec<usize> = b.rows.iter().map(|r| r.end).collect();
        assert_eq!(ends.last(), Some(&input.len()));
    }

    proptest::proptest! {
        #[test]
        fn quoted_fields_read_back_as_written(
            rows in proptest::collection::vec(
                proptest::collection::vec(("[a ,\"]{0,5}", proptest::bool::ANY), 1..5),
                1..6,
            ),
            crlf in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            let mut want = Vec::new();
            for row in &rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|(f, quote)| {
                        if *quote || f.contains([',', '"']) || f.is_empty() {
                            format!("\"{}\"", f.replace('"', "\"\""))
                        } else {
                            f.clone()
                        }
                    })
                    .collect();
                text.push_str(&cells.join(","));
                text.push_str(if crlf { "\r\n" } else { "\n" });
                want.push(row.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>());
            }
            let (b, steps) = all(text.as_bytes(), true);
            proptest::prop_assert_eq!(steps.last(), Some(&Step::End));
            let got: Vec<Vec<String>> = (0..b.len()).map(|r| fields(&b, r)).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
