//! What the nested-record formats share: JSON and XML records become struct, list and map
//! columns by the same plan ([`plan`]: shapes seen in a sample, the Arrow type of each
//! place, widening by the schema policy) and the same column builders ([`build`]), and are
//! flattened to `a.b` columns the same way ([`flat`]). Each format brings its own syntax:
//! how a value is read and what it adds to a shape.

pub(crate) mod build;
pub(crate) mod flat;
pub mod plan;
pub(crate) mod widen;
