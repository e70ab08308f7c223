<#
.SYNOPSIS
    Installs (or removes) the gemDirect done-marker sentinel as a Windows service, using NSSM.

.DESCRIPTION
    The service runs `gemdirect.exe sentinel --output-dir DIR ...`. The sentinel writes <prefix>.done
    markers in ComfyUI output folders for workflows that end in a plain SaveImage, that is, without the
    GemDirectSaveFrames node. NSSM (https://nssm.cc) wraps the console program as a service. It restarts
    the program when it crashes, and it writes the program's output to rotating log files.
    Run this script from an elevated PowerShell. See README.md in this folder.

.PARAMETER OutputDir
    One or more ComfyUI output folders to watch. Required for installing.

.PARAMETER Remove
    Stop and remove the service instead of installing it.

.EXAMPLE
    .\install-sentinel-service.ps1 -OutputDir 'D:\ComfyUI\output' -ComfyUrl http://127.0.0.1:8188

.EXAMPLE
    .\install-sentinel-service.ps1 -Remove
#>
[CmdletBinding(DefaultParameterSetName = 'Install')]
param(
    [Parameter(ParameterSetName = 'Install', Mandatory = $true)]
    [string[]] $OutputDir,
    [Parameter(ParameterSetName = 'Install')]
    [double] $StableSeconds = 3,
    [Parameter(ParameterSetName = 'Install')]
    [int] $MinFrames = 1,
    [Parameter(ParameterSetName = 'Install')]
    [string] $ComfyUrl = '',
    # Path to gemdirect.exe. Default: the one on PATH, else the one installed beside this script.
    [Parameter(ParameterSetName = 'Install')]
    [string] $GemdirectExe = '',
    # Log folder for the service's stdout and stderr. Default: %ProgramData%\gemDirect\sentinel.
    [Parameter(ParameterSetName = 'Install')]
    [string] $LogDir = (Join-Path $env:ProgramData 'gemDirect\sentinel'),
    # Account to run as. LocalSystem (the default) can't see mapped drives or your network shares.
    # Give a user account (DOMAIN\user or .\user) for output folders on a share.
    [Parameter(ParameterSetName = 'Install')]
    [pscredential] $Credential,
    [Parameter(ParameterSetName = 'Remove', Mandatory = $true)]
    [switch] $Remove,
    [string] $ServiceName = 'gemdirect-sentinel',
    # Path to nssm.exe. Default: the one on PATH.
    [string] $NssmExe = ''
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Assert-Admin {
    $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
    if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
        throw 'Installing or removing a service needs an elevated PowerShell (Run as administrator).'
    }
}

function Resolve-Nssm {
    if ($NssmExe) {
        if (-not (Test-Path -LiteralPath $NssmExe -PathType Leaf)) { throw "nssm.exe not found at '$NssmExe'." }
        return (Resolve-Path -LiteralPath $NssmExe).Path
    }
    $cmd = Get-Command nssm.exe -ErrorAction SilentlyContinue
    if (-not $cmd) {
        throw 'nssm.exe is not on PATH. Install NSSM (https://nssm.cc, or: winget install NSSM.NSSM) or pass -NssmExe.'
    }
    return $cmd.Source
}

function Resolve-Gemdirect {
    if ($GemdirectExe) {
        if (-not (Test-Path -LiteralPath $GemdirectExe -PathType Leaf)) { throw "gemdirect.exe not found at '$GemdirectExe'." }
        return (Resolve-Path -LiteralPath $GemdirectExe).Path
    }
    $cmd = Get-Command gemdirect.exe -ErrorAction SilentlyContinue
    if ($cmd) { return $cmd.Source }
    # The package installs this script under <prefix>\share\<app>\windows and gemdirect.exe under <prefix>\bin.
    foreach ($candidate in @((Join-Path $PSScriptRoot '..\..\..\bin\gemdirect.exe'),
                             (Join-Path $env:ProgramFiles 'gemDirect Studio\bin\gemdirect.exe'))) {
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return (Resolve-Path -LiteralPath $candidate).Path }
    }
    throw 'gemdirect.exe not found on PATH or beside this script; pass -GemdirectExe.'
}

# NSSM takes all arguments as one string; each value is quoted so that paths with spaces survive.
# A trailing backslash is doubled so that it does not escape the closing quote ("D:\\").
function Format-Argument([string] $value) {
    $escaped = $value -replace '"', '\"'
    if ($escaped.EndsWith('\')) { $escaped += '\' }
    return '"' + $escaped + '"'
}

function Invoke-Nssm([string] $nssm, [string[]] $arguments) {
    & $nssm @arguments | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "nssm $($arguments -join ' ') failed with exit code $LASTEXITCODE." }
}

Assert-Admin
$nssm = Resolve-Nssm
$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue

if ($Remove) {
    if (-not $existing) {
        Write-Host "Service '$ServiceName' is not installed; nothing to remove."
        return
    }
    if ($existing.Status -ne 'Stopped') { & $nssm stop $ServiceName | Out-Null }
    Invoke-Nssm $nssm @('remove', $ServiceName, 'confirm')
    Write-Host "Removed service '$ServiceName'. Markers already written stay where they are."
    return
}

$exe = Resolve-Gemdirect
foreach ($dir in $OutputDir) {
    if (-not (Test-Path -LiteralPath $dir -PathType Container)) { throw "Output folder '$dir' does not exist." }
}
if ($StableSeconds -lt 0) { throw '-StableSeconds must be >= 0.' }
if ($MinFrames -lt 1) { throw '-MinFrames must be at least 1.' }

$arguments = @('sentinel')
foreach ($dir in $OutputDir) { $arguments += @('--output-dir', (Format-Argument (Resolve-Path -LiteralPath $dir).Path)) }
$arguments += @('--stable-seconds', $StableSeconds.ToString([Globalization.CultureInfo]::InvariantCulture))
$arguments += @('--min-frames', $MinFrames.ToString())
if ($ComfyUrl) { $arguments += @('--comfy-url', (Format-Argument $ComfyUrl)) }
$parameters = $arguments -join ' '

# Check the options once in the foreground, so that a typo fails here and not in a restart loop.
& $exe @('sentinel', '--help') | Out-Null
if ($LASTEXITCODE -ne 0) { throw "'$exe sentinel --help' failed; is this a gemdirect.exe with the sentinel command?" }

New-Item -ItemType Directory -Force -Path $LogDir | Out-Null

if ($existing) {
    if ($existing.Status -ne 'Stopped') { & $nssm stop $ServiceName | Out-Null }
    Invoke-Nssm $nssm @('set', $ServiceName, 'Application', $exe)
} else {
    Invoke-Nssm $nssm @('install', $ServiceName, $exe)
}
Invoke-Nssm $nssm @('set', $ServiceName, 'AppParameters', $parameters)
Invoke-Nssm $nssm @('set', $ServiceName, 'AppDirectory', (Split-Path -Parent $exe))
Invoke-Nssm $nssm @('set', $ServiceName, 'DisplayName', 'gemDirect done-marker sentinel')
Invoke-Nssm $nssm @('set', $ServiceName, 'Description', 'Writes <prefix>.done markers for finished ComfyUI frame groups (gemdirect sentinel).')
Invoke-Nssm $nssm @('set', $ServiceName, 'Start', 'SERVICE_AUTO_START')
Invoke-Nssm $nssm @('set', $ServiceName, 'AppStdout', (Join-Path $LogDir 'sentinel.log'))
Invoke-Nssm $nssm @('set', $ServiceName, 'AppStderr', (Join-Path $LogDir 'sentinel.log'))
Invoke-Nssm $nssm @('set', $ServiceName, 'AppRotateFiles', '1')
Invoke-Nssm $nssm @('set', $ServiceName, 'AppRotateBytes', '10485760')
# Restart after a crash, with a pause. Exit code 2 is a configuration error, and a restart can't fix it.
Invoke-Nssm $nssm @('set', $ServiceName, 'AppExit', 'Default', 'Restart')
Invoke-Nssm $nssm @('set', $ServiceName, 'AppExit', '2', 'Exit')
Invoke-Nssm $nssm @('set', $ServiceName, 'AppRestartDelay', '5000')
# On stop, NSSM sends Ctrl-C first. The sentinel exits cleanly on it.
Invoke-Nssm $nssm @('set', $ServiceName, 'AppStopMethodConsole', '5000')
if ($Credential) {
    Invoke-Nssm $nssm @('set', $ServiceName, 'ObjectName', $Credential.UserName, $Credential.GetNetworkCredential().Password)
}

Invoke-Nssm $nssm @('start', $ServiceName)
Write-Host "Service '$ServiceName' is running: $exe $parameters"
Write-Host "Log: $(Join-Path $LogDir 'sentinel.log')   Remove with: .\install-sentinel-service.ps1 -Remove"
