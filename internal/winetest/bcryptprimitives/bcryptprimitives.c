/*
 * A stand-in bcryptprimitives.dll for running Go programs under Wine 8.
 *
 * Go 1.24 and later draw their random bytes from ProcessPrng, exported by
 * bcryptprimitives.dll since Windows 10, and refuse to start without it
 * ("fatal error: bcryptprimitives.dll not found"). Wine 8 (Debian 12) has
 * no such DLL. This one provides ProcessPrng on top of BCryptGenRandom
 * with the system-preferred RNG, which Wine implements. Only for tests:
 * .ci/run builds it with mingw-w64 into the Wine prefix's system32.
 *
 * ProcessPrng's contract (Microsoft, "ProcessPrng function"): fill cbData
 * bytes at pbData; it always returns TRUE. BCryptGenRandom takes a ULONG
 * length, so large requests are split.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
	while (cbData > 0) {
		ULONG n = cbData > 0x40000000 ? 0x40000000 : (ULONG)cbData;
		if (BCryptGenRandom(NULL, pbData, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		pbData += n;
		cbData -= n;
	}
	return TRUE;
}
