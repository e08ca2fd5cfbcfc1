//! Options as Python passes them, parsed once at the boundary into the core's option
//! structs. Every function of the module shares these parsers, so `convert`, `read` and
//! `write` read an option the same way.

use logflow_core::decode::csv::CsvOptions;
use logflow_core::decode::json::JsonOptions;
use logflow_core::decode::xml::{xes, XmlOptions};
use logflow_core::decode::{CastErrorPolicy, DecodeOptions, ErrorPolicy, SchemaPolicy};
use logflow_core::detect::Format;
use logflow_core::input::{self, InputOptions};
use logflow_core::native::{NativeOptions, Sheet};
use logflow_core::schema::ColumnType;
use logflow_core::write::dataset::{self, DatasetOptions};
use logflow_core::write::parquet::{Compression, ParquetOptions};
use logflow_core::Error;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyString};

fn one_byte(what: &str, s: Option<&str>) -> Result<Option<u8>, Error> {
    match s {
        None => Ok(None),
        Some(s) if s.len() == 1 && s.is_ascii() => Ok(s.bytes().next()),
        Some("\\t") => Ok(Some(b'\t')),
        Some(s) => Err(Error::invalid(format!(
            "{what} must be one ASCII character, got {s:?}"
        ))),
    }
}

/// `"auto"` -> detect (`None`); Python `None` -> off (`Some(None)`); a character -> it.
fn auto_byte(what: &str, s: Option<&str>) -> Result<Option<Option<u8>>, Error> {
    match s {
        Some("auto") => Ok(None),
        other => one_byte(what, other).map(Some),
    }
}

/// A delimiter: one ASCII character, `\t`, or a character of two bytes in UTF-8 (`§`).
/// Returns the lead byte (two-byte delimiters only) and the delimiter byte.
fn delimiter_bytes(s: Option<&str>) -> Result<(Option<u8>, Option<u8>), Error> {
    match s.map(str::as_bytes) {
        Some(&[lead, last]) if s.is_some_and(|c| c.chars().count() == 1) => {
            Ok((Some(lead), Some(last)))
        }
        _ => one_byte("delimiter", s).map(|b| (None, b)).map_err(|_| {
            Error::invalid(format!(
                "delimiter must be one ASCII character or a two-byte one such as \"§\", got {:?}",
                s.unwrap_or_default()
            ))
        }),
    }
}

/// A format name as the Python API takes it; `None` detects the format.
pub fn format(name: Option<&str>) -> Result<Option<Format>, Error> {
    let Some(name) = name else {
        return Ok(None);
    };
    Ok(Some(match name.to_ascii_lowercase().as_str() {
        "csv" | "tsv" | "delimited" => Format::Csv,
        "json" => Format::Json,
        "jsonl" | "ndjson" | "json-lines" | "jsonlines" => Format::Jsonl,
        "xml" => Format::Xml,
        "xes" => Format::Xes,
        "parquet" => Format::Parquet,
        "avro" => Format::Avro,
        "orc" => Format::Orc,
        "arrow" | "feather" | "ipc" | "arrow-file" => Format::ArrowFile,
        "arrow-stream" | "arrows" => Format::ArrowStream,
        "xlsx" | "xlsm" | "excel" => Format::Xlsx,
        "xlsb" => Format::Xlsb,
        "xls" => Format::Xls,
        "ods" => Format::Ods,
        other => {
            return Err(Error::invalid(format!(
                "unknown format {other:?}: use \"csv\", \"tsv\", \"json\", \"jsonl\", \"xml\", \"xes\", \
                 \"parquet\", \"avro\", \"orc\", \"arrow\", \"arrow-stream\", \"xlsx\", \
                 \"xlsb\", \"xls\" or \"ods\" (or None to detect it)"
            )))
        }
    }))
}

/// How delimited text is written, as the Python API spells it.
pub struct CsvArgs<'a> {
    pub delimiter: Option<&'a str>,
    pub quote: Option<&'a str>,
    pub escape: Option<&'a str>,
    pub skip_initial_space: Option<bool>,
    pub header: Option<bool>,
    pub skip_lines: Option<usize>,
}

impl CsvArgs<'_> {
    /// The dialect options.
    pub fn options(&self) -> Result<CsvOptions, Error> {
        let (delimiter_lead, delimiter) = delimiter_bytes(self.delimiter)?;
        Ok(CsvOptions {
            delimiter,
            delimiter_lead,
            quote: auto_byte("quote", self.quote)?,
            escape: auto_byte("escape", self.escape)?,
            skip_initial_space: self.skip_initial_space,
            header: self.header,
            skip_lines: self.skip_lines,
            types: None,
        })
    }
}

/// The decoding options every format shares, as the Python API spells them.
pub struct DecodeArgs<'a> {
    pub batch_size: Option<usize>,
    pub error_policy: &'a str,
    pub on_cast_error: &'a str,
    pub schema: Option<Vec<(String, String)>>,
    pub schema_policy: Option<&'a str>,
    pub infer_types: bool,
    pub empty_as_null: Option<bool>,
}

impl DecodeArgs<'_> {
    /// The decoding options.
    pub fn options(&self) -> Result<DecodeOptions, Error> {
        let mut o = DecodeOptions {
            error_policy: ErrorPolicy::parse(self.error_policy)?,
            on_cast_error: CastErrorPolicy::parse(self.on_cast_error)?,
            ..DecodeOptions::default()
        };
        o.infer_types = self.infer_types;
        o.empty_as_null = self.empty_as_null;
        if let Some(p) = self.schema_policy {
            o.schema_policy = Some(SchemaPolicy::parse(p)?);
        }
        if let Some(n) = self.batch_size {
            if n == 0 {
                return Err(Error::invalid("batch_size must be positive"));
            }
            o.batch_rows = n;
        }
        for (name, ty) in self.schema.iter().flatten() {
            let t = ColumnType::parse(ty).ok_or_else(|| {
                Error::invalid(format!(
                    "schema: column {name:?} has type {ty:?}; logflow reads int64, float64, \
                     decimal128(precision, scale), bool, string, date32, time64[us], \
                     timestamp[us], timestamp[ns], timestamp[us, tz=UTC], null"
                ))
            })?;
            o.column_types.push((name.clone(), t));
        }
        Ok(o)
    }
}

/// How to open the input: the encoding (`None`/`"auto"` detects it), and whether the caller
/// named a delimiter (the data is then delimited text).
pub fn input(encoding: Option<&str>, delimited: bool) -> Result<InputOptions, Error> {
    Ok(InputOptions {
        encoding: match encoding {
            None | Some("auto") => None,
            Some(label) => Some(input::parse_encoding(label)?),
        },
        delimited,
        ..InputOptions::default()
    })
}

/// How far compressed input may expand: a ratio (`0` for none) and a size in all.
pub fn limits(
    max_expansion: Option<u64>,
    max_decompressed_size: Option<&Bound<'_, PyAny>>,
) -> Result<input::ExpansionLimits, Error> {
    let mut l = input::ExpansionLimits::default();
    if let Some(r) = max_expansion {
        l.ratio = if r == 0 { u64::MAX } else { r };
    }
    l.max_bytes = max_decompressed_size
        .map(|v| size_arg("max_decompressed_size", v))
        .transpose()?;
    Ok(l)
}

/// The Parquet writer's options.
pub fn parquet(
    compression: &str,
    level: Option<i32>,
    row_group_size: Option<usize>,
) -> Result<ParquetOptions, Error> {
    let mut parquet = ParquetOptions {
        compression: Compression::parse(compression, level)?,
        ..ParquetOptions::default()
    };
    if let Some(n) = row_group_size {
        parquet.row_group_rows = n;
    }
    Ok(parquet)
}

/// A size in bytes given as an int or as text like `"128MB"`.
fn size_arg(what: &str, v: &Bound<'_, PyAny>) -> Result<u64, Error> {
    if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() {
        return match v.extract::<i64>() {
            Ok(n) if n > 0 => Ok(n.unsigned_abs()),
            _ => Err(Error::invalid(format!(
                "{what} must be a positive number of bytes, got {v}"
            ))),
        };
    }
    if v.is_instance_of::<PyString>() {
        let text: String = v
            .extract()
            .map_err(|_| Error::invalid(format!("{what} is not valid text")))?;
        return dataset::parse_size(&text)
            .map_err(|e| Error::invalid(format!("{what}: {}", e.kind())));
    }
    Err(Error::invalid(format!(
        "{what} must be bytes (an int) or text like \"128MB\", got {}",
        v.get_type()
            .name()
            .map_or_else(|_| "?".to_string(), |n| n.to_string())
    )))
}

/// The dataset options, when any is given: `dst` is then a directory.
pub fn dataset(
    max_rows_per_file: Option<i64>,
    target_file_size: Option<&Bound<'_, PyAny>>,
    partition_by: Option<Vec<String>>,
) -> Result<Option<DatasetOptions>, Error> {
    if max_rows_per_file.is_none() && target_file_size.is_none() && partition_by.is_none() {
        return Ok(None);
    }
    let max_rows_per_file = match max_rows_per_file {
        None => None,
        Some(n) if n > 0 => Some(n.unsigned_abs()),
        Some(n) => {
            return Err(Error::invalid(format!(
                "max_rows_per_file must be positive, got {n}"
            )))
        }
    };
    Ok(Some(DatasetOptions {
        max_rows_per_file,
        target_file_size: target_file_size
            .map(|v| size_arg("target_file_size", v))
            .transpose()?,
        partition_by: partition_by.unwrap_or_default(),
        ..DatasetOptions::default()
    }))
}

/// How JSON is read: where the records are, and whether nested objects are flattened
/// (`True`: all levels; a number: that many levels).
pub fn json(
    records_path: Option<String>,
    flatten: Option<&Bound<'_, PyAny>>,
) -> Result<JsonOptions, Error> {
    Ok(JsonOptions {
        records_path,
        flatten: flatten_levels(flatten)?,
        ..JsonOptions::default()
    })
}

/// How XML and XES are read: where the records are (`record_path`, or `records_path`, the
/// name JSON uses; both given must agree), nested elements flattened, and which XES
/// tables to write (`"events"`, `"traces"` or `"both"`).
pub fn xml(
    records_path: Option<String>,
    record_path: Option<String>,
    flatten: Option<&Bound<'_, PyAny>>,
    tables: Option<&str>,
) -> Result<XmlOptions, Error> {
    let record_path = match (records_path, record_path) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::invalid(format!(
                "record_path={b:?} and records_path={a:?} disagree; give one of them"
            )))
        }
        (a, b) => b.or(a),
    };
    Ok(XmlOptions {
        record_path,
        flatten: flatten_levels(flatten)?,
        tables: match tables {
            None => xes::Tables::Events,
            Some(t) => xes::Tables::parse(t)?,
        },
    })
}

/// `flatten` as Python gives it: `True` (every level), `False`/`None`/`0` (none), or a
/// number of levels.
fn flatten_levels(flatten: Option<&Bound<'_, PyAny>>) -> Result<Option<usize>, Error> {
    Ok(match flatten {
        None => None,
        Some(v) if v.is_instance_of::<PyBool>() => v
            .extract::<bool>()
            .map_err(|_| Error::invalid("flatten must be a bool or a number of levels"))?
            .then_some(usize::MAX),
        Some(v) => match v.extract::<i64>() {
            Ok(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)).filter(|&n| n > 0),
            _ => {
                return Err(Error::invalid(format!(
                    "flatten must be True, False or a number of levels (0 or more), got {v}"
                )))
            }
        },
    })
}

/// The options of binary inputs: the columns to read, and a workbook's sheet (a name, or a
/// 0-based position).
pub fn native(
    columns: Option<Vec<String>>,
    sheet: Option<&Bound<'_, PyAny>>,
) -> Result<NativeOptions, Error> {
    if columns.as_ref().is_some_and(Vec::is_empty) {
        return Err(Error::invalid("columns must name at least one column"));
    }
    let sheet = match sheet {
        None => None,
        Some(v) if v.is_instance_of::<PyString>() => Some(Sheet::Name(
            v.extract()
                .map_err(|_| Error::invalid("sheet is not valid text"))?,
        )),
        Some(v) if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() => {
            match v
                .extract::<i64>()
                .ok()
                .and_then(|n| usize::try_from(n).ok())
            {
                Some(n) => Some(Sheet::Index(n)),
                None => {
                    return Err(Error::invalid(format!(
                        "sheet must be a name or a 0-based position, got {v}"
                    )))
                }
            }
        }
        Some(v) => {
            return Err(Error::invalid(format!(
                "sheet must be a name or a 0-based position, got {v}"
            )))
        }
    };
    Ok(NativeOptions { columns, sheet })
}

/// Everything `convert` and `read` take about reading the input.
pub struct ReadingArgs<'a> {
    pub format: Option<&'a str>,
    pub native: NativeOptions,
    pub csv: CsvArgs<'a>,
    pub decode: DecodeArgs<'a>,
    pub encoding: Option<&'a str>,
    pub records_path: Option<String>,
    /// XML's record element path (`records_path` is accepted for it too).
    pub record_path: Option<String>,
    /// Which XES tables to write.
    pub tables: Option<&'a str>,
    pub threads: Option<usize>,
    pub max_expansion: Option<u64>,
}

impl ReadingArgs<'_> {
    /// The conversion options for reading (writing ones at their defaults).
    pub fn options(
        self,
        flatten: Option<&Bound<'_, PyAny>>,
        max_decompressed_size: Option<&Bound<'_, PyAny>>,
    ) -> Result<logflow_core::pipeline::ConvertOptions, Error> {
        Ok(logflow_core::pipeline::ConvertOptions {
            decode: self.decode.options()?,
            format: format(self.format)?,
            input: InputOptions {
                limits: limits(self.max_expansion, max_decompressed_size)?,
                ..input(self.encoding, self.csv.delimiter.is_some())?
            },
            csv: self.csv.options()?,
            xml: xml(
                self.records_path.clone(),
                self.record_path,
                flatten,
                self.tables,
            )?,
            json: json(self.records_path, flatten)?,
            native: self.native,
            threads: self.threads.unwrap_or(0),
            ..logflow_core::pipeline::ConvertOptions::default()
        })
    }
}
