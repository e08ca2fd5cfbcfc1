//! JSON's side of the plan (shared with XML in [`crate::decode::nested::plan`]): what a JSON
//! value adds to a [`Shape`].

pub use crate::decode::nested::plan::*;

use super::lex::{Lex, Lexed, MAX_DEPTH};

impl Shape {
    /// Reads one value at the cursor and adds what it is to this shape.
    pub fn observe(&mut self, lex: &mut Lex<'_>, key: &mut Vec<u8>, depth: usize) -> Lexed<()> {
        match lex.ws() {
            Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return lex.err("nested too deeply");
                }
                lex.i += 1;
                let mut object = match std::mem::take(self) {
                    Shape::Unseen => Some(Box::<ObjectShape>::default()),
                    Shape::Object(o) => Some(o),
                    _ => None,
                };
                if lex.ws() == Some(b'}') {
                    lex.i += 1;
                } else {
                    loop {
                        if lex.ws() != Some(b'"') {
                            return lex.err("object key (a string) expected");
                        }
                        key.clear();
                        lex.string_into(key)?;
                        lex.expect(b':', "':' expected after an object key")?;
                        match object.as_mut() {
                            Some(o) => {
                                let name = String::from_utf8_lossy(key).into_owned();
                                match o.field(&name) {
                                    Some(f) => f.observe(lex, key, depth + 1)?,
                                    None => lex.skip_value(depth + 1)?,
                                }
                            }
                            None => lex.skip_value(depth + 1)?,
                        }
                        match lex.ws() {
                            Some(b',') => lex.i += 1,
                            Some(b'}') => {
                                lex.i += 1;
                                break;
                            }
                            _ => return lex.err("',' or '}' expected in an object"),
                        }
                    }
                }
                *self = object.map_or(Shape::Mixed, Shape::Object);
                Ok(())
            }
            Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return lex.err("nested too deeply");
                }
                lex.i += 1;
                let mut items = match std::mem::take(self) {
                    Shape::Unseen => Some(Box::new(Shape::Unseen)),
                    Shape::Array(a) => Some(a),
                    _ => None,
                };
                if lex.ws() == Some(b']') {
                    lex.i += 1;
                } else {
                    loop {
                        match items.as_mut() {
                            Some(items) => items.observe(lex, key, depth + 1)?,
                            None => lex.skip_value(depth + 1)?,
                        }
                        match lex.ws() {
                            Some(b',') => lex.i += 1,
                            Some(b']') => {
                                lex.i += 1;
                                break;
                            }
                            _ => return lex.err("',' or ']' expected in an array"),
                        }
                    }
                }
                *self = items.map_or(Shape::Mixed, Shape::Array);
                Ok(())
            }
            Some(b'n') => lex.literal(b"null"),
            Some(c @ (b't' | b'f')) => {
                lex.literal(if c == b't' { b"true" } else { b"false" })?;
                if let Some(leaf) = self.leaf() {
                    leaf.bools += 1;
                }
                Ok(())
            }
            Some(b'"') => {
                key.clear();
                lex.string_into(key)?;
                if let Some(leaf) = self.leaf() {
                    leaf.strings += 1;
                    leaf.inference.observe(key);
                }
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let n = lex.number()?;
                if let Some(leaf) = self.leaf() {
                    leaf.numbers += 1;
                    leaf.inference.observe(n.text);
                    if n.integer && crate::decode::values::parse_i64(n.text).is_none() {
                        leaf.wide_integers = true;
                    }
                }
                Ok(())
            }
            Some(_) => lex.err("a JSON value expected"),
            None => lex.err("a JSON value expected, found the end of the input"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::values::DateFormat;
    use crate::decode::SchemaPolicy;

    fn shape_of(values: &[&str]) -> Shape {
        let mut s = Shape::Unseen;
        let mut key = Vec::new();
        for v in values {
            s.observe(&mut Lex::new(v.as_bytes(), 0), &mut key, 0)
                .unwrap();
        }
        s
    }

    fn node_of(values: &[&str]) -> Node {
        Node::from_shape(&shape_of(values), "x", 0.0, false).0
    }

    #[test]
    fn scalars_get_the_most_specific_type() {
        assert_eq!(node_of(&["1", "2", "null"]), Node::Int);
        assert_eq!(node_of(&["1", "2.5"]), Node::Float);
        assert_eq!(node_of(&["true", "false"]), Node::Bool);
        assert_eq!(node_of(&["\"a\"", "1"]), Node::Str);
        assert_eq!(
            node_of(&["\"123\"", "\"45\""]),
            Node::Str,
            "numbers in quotes stay text"
        );
        assert_eq!(node_of(&["\"2024-05-01\""]), Node::Date(DateFormat::ISO));
        assert!(matches!(
            node_of(&["\"2024-05-01T10:00:00.5\""]),
            Node::Timestamp { utc: false, .. }
        ));
        assert!(matches!(
            node_of(&["\"2024-05-01T10:00:00Z\""]),
            Node::Timestamp { utc: true, .. }
        ));
        assert_eq!(node_of(&["12345678901234567890123"]), Node::Decimal(23, 0));
        assert_eq!(
            node_of(&["1234567890123456789012345678901234567890"]),
            Node::Str
        );
        assert_eq!(node_of(&["null"]), Node::Str);
        assert_eq!(node_of(&["{}", "1"]), Node::Json);
    }

    #[test]
    fn objects_and_arrays_nest() {
        let n = node_of(&[r#"{"a": 1, "b": {"c": [1, 2]}}"#, r#"{"a": 2, "d": "x"}"#]);
        let Node::Struct(s) = n else { panic!() };
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "d"]);
        assert_eq!(
            s.fields[1].node.data_type().to_string(),
            "Struct(\"c\": List(Int64))"
        );
    }

    #[test]
    fn thousands_of_keys_make_a_map() {
        let obj: String = format!(
            "{{{}}}",
            (0..2000)
                .map(|i| format!("\"k{i}\": {i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(node_of(&[&obj]), Node::Map(Box::new(Node::Int)));
    }

    #[test]
    fn plans_widen_by_policy() {
        let mut n = Node::Int;
        assert!(n.absorb(&shape_of(&["1.5"]), "x", SchemaPolicy::Merge));
        assert_eq!(n, Node::Float);
        assert!(n.absorb(&shape_of(&["\"a\""]), "x", SchemaPolicy::Merge));
        assert_eq!(n, Node::Str);
        assert!(!n.absorb(&shape_of(&["{}"]), "x", SchemaPolicy::Merge));
        assert!(n.absorb(&shape_of(&["{}"]), "x", SchemaPolicy::Evolve));
        assert_eq!(n, Node::Json);
    }
}
