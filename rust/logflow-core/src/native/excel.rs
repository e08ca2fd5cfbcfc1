//! Excel and OpenDocument workbooks (xlsx, xlsm, xlsb, xls, ods), read by calamine.
//!
//! A sheet is rendered as delimited text, row by row on a thread of its own, and read by the
//! CSV decoder with the delimiter fixed: so the header row is found as for a CSV file (titles
//! and notes above the table skipped), column types are inferred by the same rules, and the
//! error policies, quarantine (the rendered rows), `schema=` and `read()` work unchanged.
//!
//! How cells become text:
//! - numbers: whole numbers (below 2^53) without a fraction, so integer columns are int64;
//!   others as the shortest text that reads back the same float;
//! - text: as it is, quoted when needed; text holding numbers or dates is typed like the same
//!   text in a CSV file ("numbers stored as text" are numbers);
//! - booleans: `true` / `false`;
//! - dates and times (cells with a date format): a date at midnight as `YYYY-MM-DD` (so a
//!   column of dates stays a date column), other date-times as `YYYY-MM-DDTHH:MM:SS[.mmm]`,
//!   times of day as `HH:MM:SS[.mmm]`, durations as `H:MM:SS` (hours past 24 kept); ODS
//!   dates and durations as written (ISO 8601);
//! - empty cells and error cells (`#DIV/0!`, `#N/A`, ...) are empty (null);
//! - a merged range holds its value in its top-left cell; its other cells are empty.
//!
//! Every row is as wide as the sheet's used range (from its first used column), and empty
//! rows are blank lines (which the CSV decoder skips), so line `N` of an error is row `N` of
//! the sheet when no cell holds a line break.
//!
//! xlsx, xlsm and xlsb sheets are streamed cell by cell (twice: a first pass finds the
//! columns that hold values), so memory stays small whatever the sheet's size; xls and ods
//! sheets are loaded whole by calamine first.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use calamine::{Data, DataRef, Ods, Reader as _, Xls, Xlsb, Xlsx};

use super::{NativeOptions, Sheet};
use crate::detect::Format;
use crate::error::{Error, ErrorKind, Result};
use crate::input::CorruptStream;

/// Bytes of rendered text per piece handed to the CSV reader.
const PIECE: usize = 256 << 10;

/// An open workbook of any kind.
enum Book {
    Xlsx(Xlsx<BufReader<File>>),
    Xlsb(Xlsb<BufReader<File>>),
    Xls(Xls<BufReader<File>>),
    Ods(Ods<BufReader<File>>),
}

/// A sheet's rows as CSV text, produced on a thread of its own.
pub struct SheetText {
    pieces: Receiver<std::result::Result<Vec<u8>, Error>>,
    piece: Vec<u8>,
    at: usize,
    /// Bytes handed out, for the offset of a late error.
    offset: u64,
    format: &'static str,
    /// The sheet's name.
    pub sheet: String,
}

impl Read for SheetText {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.piece.len() {
            match self.pieces.recv() {
                Ok(Ok(piece)) => {
                    self.piece = piece;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    // Carried as a corrupt stream, so it becomes a decode error naming the
                    // format.
                    let reason = match e.kind() {
                        ErrorKind::Decode { reason, .. } => reason.clone(),
                        _ => e.to_string(),
                    };
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        CorruptStream {
                            format: self.format,
                            offset: self.offset,
                            reason,
                        },
                    ));
                }
                Err(_) => return Ok(0),
            }
        }
        let rest = self.piece.get(self.at..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(d), Some(s)) = (buf.get_mut(..n), rest.get(..n)) {
            d.copy_from_slice(s);
        }
        self.at += n;
        self.offset += n as u64;
        Ok(n)
    }
}

/// Opens the workbook `src` and starts rendering the sheet `native.sheet` asks for (the first
/// sheet holding a cell by default). Errors: a sheet that does not exist (the message lists
/// them), a password-protected or damaged workbook.
pub fn open(src: &Path, format: Format, native: &NativeOptions) -> Result<SheetText> {
    let with_src = |e: Error| e.with_path(src);
    let mut book = open_book(src, format).map_err(with_src)?;
    let names = book.sheet_names();
    let name = match &native.sheet {
        Some(Sheet::Name(n)) => {
            if !names.contains(n) {
                return Err(with_src(no_sheet(&format!("{n:?}"), &names)));
            }
            n.clone()
        }
        Some(Sheet::Index(i)) => names
            .get(*i)
            .cloned()
            .ok_or_else(|| with_src(no_sheet(&format!("at position {i}"), &names)))?,
        None => {
            let mut found = None;
            for n in &names {
                if book.has_cells(n, format).map_err(with_src)? {
                    found = Some(n.clone());
                    break;
                }
            }
            // Every sheet empty: the first (an empty input).
            found
                .or_else(|| names.first().cloned())
                .ok_or_else(|| with_src(Error::new(ErrorKind::Empty)))?
        }
    };
    let (tx, rx) = sync_channel(4);
    let sheet = name.clone();
    std::thread::Builder::new()
        .name("logflow-sheet".into())
        .spawn(move || {
            let mut out = Render::new(tx);
            let done = book.render(&sheet, format, &mut out);
            match done {
                Ok(()) => out.flush(),
                Err(e) => {
                    out.flush();
                    let _ = out.tx.send(Err(e));
                }
            }
        })
        .map_err(Error::from)?;
    Ok(SheetText {
        pieces: rx,
        piece: Vec::new(),
        at: 0,
        offset: 0,
        format: format.name(),
        sheet: name,
    })
}

fn no_sheet(which: &str, names: &[String]) -> Error {
    Error::invalid(format!(
        "sheet: the workbook has no sheet {which} (its sheets: {})",
        crate::schema::quoted_names(names)
    ))
}

fn open_book(src: &Path, format: Format) -> Result<Book> {
    let file = || -> Result<BufReader<File>> {
        let (f, _) = crate::input::open_file(src)?;
        Ok(BufReader::with_capacity(1 << 16, f))
    };
    match format {
        Format::Xlsx => Xlsx::new(file()?)
            .map(Book::Xlsx)
            .map_err(|e| book_error(format, &e)),
        Format::Xlsb => Xlsb::new(file()?)
            .map(Book::Xlsb)
            .map_err(|e| book_error(format, &e)),
        Format::Ods => Ods::new(file()?)
            .map(Book::Ods)
            .map_err(|e| book_error(format, &e)),
        _ => match Xls::new(file()?) {
            Ok(b) => Ok(Book::Xls(b)),
            Err(xls) => {
                // An encrypted xlsx or xlsb is an OLE2 file too: their readers say so.
                if let Err(e) = Xlsx::new(file()?) {
                    if matches!(e, calamine::XlsxError::Password) {
                        return Err(password());
                    }
                }
                if let Err(calamine::XlsbError::Password) = Xlsb::new(file()?) {
                    return Err(password());
                }
                Err(book_error(Format::Xls, &xls))
            }
        },
    }
}

#[cold]
fn password() -> Error {
    Error::new(ErrorKind::Unsupported(
        "the workbook is password-protected (encrypted); logflow cannot read it: save a copy \
         without a password"
            .into(),
    ))
}

#[cold]
fn book_error(format: Format, e: &dyn std::fmt::Display) -> Error {
    let text = e.to_string();
    if text.to_ascii_lowercase().contains("password") {
        return password();
    }
    super::corrupt(format, format!("the workbook cannot be read: {text}"))
}

impl Book {
    fn sheet_names(&self) -> Vec<String> {
        match self {
            Book::Xlsx(b) => b.sheet_names(),
            Book::Xlsb(b) => b.sheet_names(),
            Book::Xls(b) => b.sheet_names(),
            Book::Ods(b) => b.sheet_names(),
        }
    }

    /// Whether the sheet holds any non-empty cell.
    fn has_cells(&mut self, name: &str, format: Format) -> Result<bool> {
        let err = |e: &dyn std::fmt::Display| book_error(format, e);
        Ok(match self {
            Book::Xlsx(b) => {
                let mut cells = b.worksheet_cells_reader(name).map_err(|e| err(&e))?;
                loop {
                    match cells.next_cell().map_err(|e| err(&e))? {
                        None => break false,
                        Some(c) if !matches!(c.get_value(), DataRef::Empty) => break true,
                        Some(_) => {}
                    }
                }
            }
            Book::Xlsb(b) => {
                let mut cells = b.worksheet_cells_reader(name).map_err(|e| err(&e))?;
                loop {
                    match cells.next_cell().map_err(|e| err(&e))? {
                        None => break false,
                        Some(c) if !matches!(c.get_value(), DataRef::Empty) => break true,
                        Some(_) => {}
                    }
                }
            }
            Book::Xls(b) => b
                .worksheet_range(name)
                .map_err(|e| err(&e))?
                .used_cells()
                .any(|(_, _, v)| !matches!(v, Data::Empty)),
            Book::Ods(b) => b
                .worksheet_range(name)
                .map_err(|e| err(&e))?
                .used_cells()
                .any(|(_, _, v)| !matches!(v, Data::Empty)),
        })
    }

    /// Renders the sheet `name` into `out`.
    fn render(&mut self, name: &str, format: Format, out: &mut Render) -> Result<()> {
        let err = |e: &dyn std::fmt::Display| book_error(format, e);
        match self {
            Book::Xlsx(b) => {
                // A first pass finds the columns that hold values: the declared dimensions
                // also count columns that are only formatted.
                let mut span = Span::default();
                {
                    let mut cells = b.worksheet_cells_reader(name).map_err(|e| err(&e))?;
                    while let Some(c) = cells.next_cell().map_err(|e| err(&e))? {
                        span.add(c.get_position().1, c.get_value());
                    }
                }
                let mut cells = b.worksheet_cells_reader(name).map_err(|e| err(&e))?;
                out.columns(span.columns());
                while let Some(c) = cells.next_cell().map_err(|e| err(&e))? {
                    let (row, col) = c.get_position();
                    out.cell(row, col, c.get_value())?;
                }
            }
            Book::Xlsb(b) => {
                let mut span = Span::default();
                {
                    let mut cells = b.worksheet_cells_reader(name).map_err(|e| err(&e))?;
                    while let Some(c) = cells.next_cell().map_err(|e| err(&e))? {
                        span.add(c.get_position().1, c.get_value());
                    }
                }
                let mut cells = b.worksheet_cells_reader(name).map_err(|e| err(&e))?;
                out.columns(span.columns());
                while let Some(c) = cells.next_cell().map_err(|e| err(&e))? {
                    let (row, col) = c.get_position();
                    out.cell(row, col, c.get_value())?;
                }
            }
            Book::Xls(b) => {
                let range = b.worksheet_range(name).map_err(|e| err(&e))?;
                out.range(&range)?;
            }
            Book::Ods(b) => {
                let range = b.worksheet_range(name).map_err(|e| err(&e))?;
                out.range(&range)?;
            }
        }
        out.end_row();
        Ok(())
    }
}

/// The columns that hold values.
#[derive(Default)]
struct Span {
    first: Option<u32>,
    last: u32,
}

impl Span {
    fn add(&mut self, col: u32, v: &DataRef<'_>) {
        if matches!(v, DataRef::Empty) {
            return;
        }
        self.first = Some(self.first.map_or(col, |f| f.min(col)));
        self.last = self.last.max(col);
    }

    fn columns(&self) -> (u32, u32) {
        (
            self.first.unwrap_or(0),
            self.last.max(self.first.unwrap_or(0)),
        )
    }
}

/// Writes rows of cells as CSV text in pieces to the reader.
struct Render {
    tx: SyncSender<std::result::Result<Vec<u8>, Error>>,
    buf: Vec<u8>,
    /// First and last column of every row.
    first_col: u32,
    last_col: u32,
    /// The row being written (0-based), and the next column to write in it.
    row: Option<u32>,
    col: u32,
    /// Rows written so far, blank ones included.
    rows_done: u64,
    /// The reader is gone: stop.
    closed: bool,
}

impl Render {
    fn new(tx: SyncSender<std::result::Result<Vec<u8>, Error>>) -> Self {
        Render {
            tx,
            buf: Vec::with_capacity(PIECE + 4096),
            first_col: 0,
            last_col: 0,
            row: None,
            col: 0,
            rows_done: 0,
            closed: false,
        }
    }

    fn columns(&mut self, (first, last): (u32, u32)) {
        self.first_col = first;
        self.last_col = last.max(first);
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() && !self.closed {
            let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE + 4096));
            self.closed = self.tx.send(Ok(piece)).is_err();
        }
    }

    /// Ends the row being written: the empty cells left, then the line end.
    fn end_row(&mut self) {
        if self.row.is_some() {
            while self.col <= self.last_col {
                if self.col > self.first_col {
                    self.buf.push(b',');
                }
                self.col += 1;
            }
            self.buf.push(b'\n');
            self.rows_done += 1;
            self.row = None;
        }
    }

    /// Adds a cell; cells come row by row, left to right.
    fn cell(&mut self, row: u32, col: u32, v: &DataRef<'_>) -> Result<()> {
        if self.closed {
            return Err(Error::new(ErrorKind::Cancelled));
        }
        if matches!(v, DataRef::Empty) {
            return Ok(());
        }
        let misplaced = |why: &str| {
            Error::new(ErrorKind::Unsupported(format!(
                "the cell at row {}, column {} {why}; logflow reads sheets whose cells are \
                 stored row by row",
                u64::from(row) + 1,
                u64::from(col) + 1
            )))
        };
        if col < self.first_col || col > self.last_col {
            return Err(misplaced("lies outside the sheet's columns"));
        }
        if self.row != Some(row) {
            if self.row.is_some_and(|r| r > row) {
                return Err(misplaced("comes after a later row"));
            }
            self.end_row();
            // Blank lines for the empty rows before this one.
            while self.rows_done < u64::from(row) {
                self.buf.push(b'\n');
                self.rows_done += 1;
            }
            self.row = Some(row);
            self.col = self.first_col;
        }
        if col < self.col {
            return Err(misplaced("comes after a cell to its right"));
        }
        while self.col < col {
            if self.col > self.first_col {
                self.buf.push(b',');
            }
            self.col += 1;
        }
        if self.col > self.first_col {
            self.buf.push(b',');
        }
        write_value(v, &mut self.buf);
        self.col += 1;
        if self.buf.len() >= PIECE {
            self.flush();
        }
        Ok(())
    }

    fn range(&mut self, range: &calamine::Range<Data>) -> Result<()> {
        let Some((r0, c0)) = range.start() else {
            return Ok(());
        };
        let width = u32::try_from(range.width()).unwrap_or(u32::MAX);
        self.columns((c0, c0 + width.saturating_sub(1)));
        for (i, row) in range.rows().enumerate() {
            let r = r0 + u32::try_from(i).unwrap_or(u32::MAX);
            for (j, v) in row.iter().enumerate() {
                self.cell(r, c0 + u32::try_from(j).unwrap_or(u32::MAX), &data_ref(v))?;
            }
        }
        Ok(())
    }
}

/// A loaded cell as the streamed readers give it.
fn data_ref(d: &Data) -> DataRef<'_> {
    match d {
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(f) => DataRef::Float(*f),
        Data::String(s) => DataRef::SharedString(s),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(d) => DataRef::DateTime(*d),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
        Data::Empty => DataRef::Empty,
    }
}

/// Appends one cell's text, quoted when it holds a comma, a quote or a line break.
fn write_value(v: &DataRef<'_>, out: &mut Vec<u8>) {
    match v {
        DataRef::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        DataRef::Float(f) => write_float(*f, out),
        DataRef::String(s) => write_text(s, out),
        DataRef::SharedString(s) => write_text(s, out),
        DataRef::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        DataRef::DateTime(d) => write_datetime(d, out),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => write_text(s, out),
        DataRef::Error(_) | DataRef::Empty => {}
    }
}

fn write_float(f: f64, out: &mut Vec<u8>) {
    // Whole numbers an int64 holds exactly are written as integers.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT {
        #[allow(clippy::cast_possible_truncation)]
        out.extend_from_slice((f as i64).to_string().as_bytes());
    } else {
        out.extend_from_slice(format!("{f:?}").as_bytes());
    }
}

fn write_text(s: &str, out: &mut Vec<u8>) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

fn write_datetime(d: &calamine::ExcelDateTime, out: &mut Vec<u8>) {
    let v = d.as_f64();
    if d.is_duration() {
        let ms = (v * 86_400_000.0).round();
        if !ms.is_finite() || ms.abs() > 1e15 {
            return write_float(v, out);
        }
        #[allow(clippy::cast_possible_truncation)]
        let ms = ms as i64;
        let sign = if ms < 0 { "-" } else { "" };
        let ms = ms.unsigned_abs();
        let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        out.extend_from_slice(format!("{sign}{h}:{m:02}:{s:02}").as_bytes());
        if frac > 0 {
            out.extend_from_slice(format!(".{frac:03}").as_bytes());
        }
        return;
    }
    let (y, mo, day, h, mi, s, ms) = d.to_ymd_hms_milli();
    let time = |out: &mut Vec<u8>| {
        out.extend_from_slice(format!("{h:02}:{mi:02}:{s:02}").as_bytes());
        if ms > 0 {
            out.extend_from_slice(format!(".{ms:03}").as_bytes());
        }
    };
    if (0.0..1.0).contains(&v) {
        // A time of day (Excel's day 0).
        time(out);
    } else if h == 0 && mi == 0 && s == 0 && ms == 0 {
        out.extend_from_slice(format!("{y:04}-{mo:02}-{day:02}").as_bytes());
    } else {
        out.extend_from_slice(format!("{y:04}-{mo:02}-{day:02}T").as_bytes());
        time(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    fn text(v: &DataRef<'_>) -> String {
        let mut out = Vec::new();
        write_value(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cells_render_as_csv_text() {
        let dt = |v: f64, kind| DataRef::DateTime(ExcelDateTime::new(v, kind, false));
        for (cell, want) in [
            (DataRef::Float(3.0), "3"),
            (DataRef::Float(-0.5), "-0.5"),
            (DataRef::Float(1e300), "1e300"),
            (DataRef::Float(0.1 + 0.2), "0.30000000000000004"),
            (DataRef::Int(7), "7"),
            (DataRef::Bool(true), "true"),
            (DataRef::String("a,b \"c\"".into()), "\"a,b \"\"c\"\"\""),
            (DataRef::SharedString("00123"), "00123"),
            (dt(45_292.0, ExcelDateTimeType::DateTime), "2024-01-01"),
            (
                dt(45_292.5, ExcelDateTimeType::DateTime),
                "2024-01-01T12:00:00",
            ),
            (dt(0.25, ExcelDateTimeType::DateTime), "06:00:00"),
            (dt(1.5, ExcelDateTimeType::TimeDelta), "36:00:00"),
            (DataRef::Error(calamine::CellErrorType::Div0), ""),
            (DataRef::Empty, ""),
        ] {
            assert_eq!(text(&cell), want, "{cell:?}");
        }
    }

    #[test]
    fn rows_are_as_wide_as_the_sheet_and_gaps_are_blank_lines() {
        let (tx, rx) = sync_channel(16);
        let mut r = Render::new(tx);
        r.columns((1, 3));
        r.cell(0, 1, &DataRef::SharedString("a")).unwrap();
        r.cell(0, 3, &DataRef::SharedString("c")).unwrap();
        r.cell(2, 2, &DataRef::Float(1.0)).unwrap();
        r.end_row();
        r.flush();
        drop(r);
        let text: Vec<u8> = rx.iter().flat_map(|p| p.unwrap()).collect();
        assert_eq!(String::from_utf8(text).unwrap(), "a,,c\n\n,1,\n");
    }
}
