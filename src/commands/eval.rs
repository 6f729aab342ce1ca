pub async fn run(_a: crate::cli::EvalArgs, _c: &super::Ctx) -> anyhow::Result<i32> { todo!() }
