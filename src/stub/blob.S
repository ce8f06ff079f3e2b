/* skiff-init's executable, built by the Makefile (STUB_BIN), as data. */
	.section .rodata
	.global skiff_init_blob
	.global skiff_init_blob_end
	.balign 16
skiff_init_blob:
	.incbin STUB_BIN
skiff_init_blob_end:
	.section .note.GNU-stack,"",%progbits
