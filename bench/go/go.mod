module goscopebench

go 1.19
