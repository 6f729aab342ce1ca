pub async fn run(_a: crate::cli::ValidateArgs, _c: &super::Ctx) -> anyhow::Result<i32> { todo!() }
