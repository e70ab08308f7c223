<#
.SYNOPSIS
    Registers (or removes) a per-user scheduled task that starts the gemDirect done-marker sentinel at logon.

.DESCRIPTION
    Use this when you can't install a service: it needs no administrator rights, and the sentinel runs as
    you, so it sees your mapped drives and network shares. The task runs
    `gemdirect.exe sentinel --output-dir DIR ...` hidden at every logon of the current user. It restarts the
    sentinel up to 3 times after a failure and has no time limit. Output goes to
    %LOCALAPPDATA%\gemDirect\sentinel.log. See README.md in this folder.

.EXAMPLE
    .\install-sentinel-task.ps1 -OutputDir 'D:\ComfyUI\output' -StartNow

.EXAMPLE
    .\install-sentinel-task.ps1 -Remove
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
    # Start the task right away instead of at the next logon.
    [Parameter(ParameterSetName = 'Install')]
    [switch] $StartNow,
    [Parameter(ParameterSetName = 'Remove', Mandatory = $true)]
    [switch] $Remove,
    [string] $TaskName = 'gemDirect sentinel'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$user = "$env:USERDOMAIN\$env:USERNAME"
$existing = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue

if ($Remove) {
    if (-not $existing) {
        Write-Host "Task '$TaskName' is not registered; nothing to remove."
        return
    }
    Stop-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false
    Write-Host "Removed task '$TaskName'. Markers already written stay where they are."
    return
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

# A PowerShell single-quoted literal: the only escape is a doubled quote.
function Format-Literal([string] $value) {
    return "'" + ($value -replace "'", "''") + "'"
}

$exe = Resolve-Gemdirect
foreach ($dir in $OutputDir) {
    if (-not (Test-Path -LiteralPath $dir -PathType Container)) { throw "Output folder '$dir' does not exist." }
}
if ($StableSeconds -lt 0) { throw '-StableSeconds must be >= 0.' }
if ($MinFrames -lt 1) { throw '-MinFrames must be at least 1.' }

$logDir = Join-Path $env:LOCALAPPDATA 'gemDirect'
New-Item -ItemType Directory -Force -Path $logDir | Out-Null
$log = Join-Path $logDir 'sentinel.log'

$sentinelArgs = @('sentinel')
foreach ($dir in $OutputDir) { $sentinelArgs += @('--output-dir', (Resolve-Path -LiteralPath $dir).Path) }
$sentinelArgs += @('--stable-seconds', $StableSeconds.ToString([Globalization.CultureInfo]::InvariantCulture))
$sentinelArgs += @('--min-frames', $MinFrames.ToString())
if ($ComfyUrl) { $sentinelArgs += @('--comfy-url', $ComfyUrl) }

# gemdirect.exe is a console program. A hidden PowerShell host keeps a console window off the desktop
# and appends the sentinel's output to the log. `exit $LASTEXITCODE` passes a failure on to the Task
# Scheduler, which restarts the task.
$command = '& ' + (Format-Literal $exe) + ' ' + (($sentinelArgs | ForEach-Object { Format-Literal $_ }) -join ' ') +
           ' *>> ' + (Format-Literal $log) + '; exit $LASTEXITCODE'
$encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($command))

$action = New-ScheduledTaskAction -Execute 'powershell.exe' `
    -Argument "-NoProfile -NonInteractive -WindowStyle Hidden -ExecutionPolicy Bypass -EncodedCommand $encoded"
$trigger = New-ScheduledTaskTrigger -AtLogOn -User $user
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 3 `
    -RestartInterval (New-TimeSpan -Minutes 1) -MultipleInstances IgnoreNew `
    -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -StartWhenAvailable
$principal = New-ScheduledTaskPrincipal -UserId $user -LogonType Interactive -RunLevel Limited

if ($existing) { Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false }
Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $settings -Principal $principal `
    -Description 'gemDirect done-marker sentinel: writes <prefix>.done for finished ComfyUI frame groups.' | Out-Null

if ($StartNow) { Start-ScheduledTask -TaskName $TaskName }
Write-Host "Task '$TaskName' registered for $user$(if ($StartNow) { ' and started' } else { '; it starts at your next logon' })."
Write-Host "Command: $exe $($sentinelArgs -join ' ')"
Write-Host "Log: $log   Remove with: .\install-sentinel-task.ps1 -Remove"
