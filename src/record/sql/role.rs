//! Role switches inside a session. Poolers and PostgREST (Supabase) log in as one user
//! (`authenticator`) and switch per request with `SET ROLE x` or `set_config('role', x, true)`;
//! the statements that follow run as `x`, and that is the persona a recording must use.

use pg_query::NodeEnum;
use pg_query::protobuf::{Node, VariableSetKind, a_const};

/// What a statement does to the session's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChange {
    Set(String),
    /// `RESET ROLE`, `SET ROLE NONE`: back to the session user.
    Reset,
}

/// The role change `sql` makes, reading `$n` values from `params` (`set_config('role', $2, …)`).
pub fn role_change(sql: &str, params: &[Option<String>]) -> Option<RoleChange> {
    if !sql.to_ascii_lowercase().contains("role") {
        return None;
    }
    let parsed = pg_query::parse(sql, 0).ok()?;
    match parsed
        .protobuf
        .stmts
        .first()?
        .stmt
        .as_ref()?
        .node
        .as_ref()?
    {
        NodeEnum::VariableSetStmt(set) if set.name == "role" => {
            let reset = set.kind == VariableSetKind::VarReset as i32
                || set.kind == VariableSetKind::VarSetDefault as i32;
            match set.args.first().and_then(|arg| text(arg, params)) {
                Some(role) if !reset && role != "none" => Some(RoleChange::Set(role)),
                _ => Some(RoleChange::Reset),
            }
        }
        NodeEnum::SelectStmt(select) => select.target_list.iter().find_map(|target| {
            let NodeEnum::ResTarget(target) = target.node.as_ref()? else {
                return None;
            };
            let NodeEnum::FuncCall(call) = target.val.as_deref()?.node.as_ref()? else {
                return None;
            };
            let name = call.funcname.last()?.node.as_ref()?;
            let is_set_config = matches!(name, NodeEnum::String(s) if s.sval == "set_config");
            let setting = call.args.first().and_then(|arg| text(arg, params))?;
            let value = call.args.get(1).and_then(|arg| text(arg, params))?;
            (is_set_config && setting == "role").then_some(RoleChange::Set(value))
        }),
        _ => None,
    }
}

/// A string constant or a `$n` with a logged value.
fn text(node: &Node, params: &[Option<String>]) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::AConst(constant) => match constant.val.as_ref()? {
            a_const::Val::Sval(s) => Some(s.sval.clone()),
            _ => None,
        },
        NodeEnum::ParamRef(p) => params
            .get(usize::try_from(p.number).ok()?.checked_sub(1)?)?
            .clone(),
        NodeEnum::TypeCast(cast) => text(cast.arg.as_deref()?, params),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_role_and_set_config_switch_the_role() {
        let set = |role: &str| Some(RoleChange::Set(role.to_string()));
        assert_eq!(
            role_change("SET ROLE authenticated", &[]),
            set("authenticated")
        );
        assert_eq!(role_change("SET LOCAL ROLE 'anon'", &[]), set("anon"));
        assert_eq!(role_change("RESET ROLE", &[]), Some(RoleChange::Reset));
        assert_eq!(role_change("SET ROLE NONE", &[]), Some(RoleChange::Reset));
        assert_eq!(
            role_change("select set_config('role', 'service_role', true)", &[]),
            set("service_role")
        );
        let params = [
            Some("public".to_string()),
            Some("authenticated".to_string()),
        ];
        assert_eq!(
            role_change(
                "select set_config('search_path', $1, true), set_config('role', $2, true)",
                &params
            ),
            set("authenticated")
        );
        assert_eq!(role_change("SELECT * FROM roles WHERE id = 1", &[]), None);
    }
}
