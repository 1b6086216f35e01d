module biscotti/tools/peers/gobench

go 1.19
