module memstate.example/gophases

go 1.19
